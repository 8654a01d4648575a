"""The GraphQL documents the simulation sends: the same public API every client uses."""

SESSION = "session { accessToken refreshToken viewer { ... on StaffUser { id } ... on Customer { id } } }"

STAFF_LOGIN = f"""mutation($u: String!, $p: String!) {{
  staffLogin(input: {{username: $u, password: $p}}) {{ {SESSION} errors {{ code message }} }} }}"""

CUSTOMER_LOGIN = f"""mutation($phone: String!, $code: String!) {{
  customerLogin(input: {{phone: $phone, smsCode: $code}}) {{ {SESSION} errors {{ code message }} }} }}"""

TOKEN_REFRESH = f"""mutation($token: String!) {{
  tokenRefresh(input: {{refreshToken: $token}}) {{ {SESSION} errors {{ code message }} }} }}"""

STORES = """query($after: String) { stores(first: 100, after: $after) {
  edges { node { id code name city location { latitude longitude } } } pageInfo { hasNextPage endCursor } } }"""

PRODUCTS = """query($after: String) { products(first: 100, after: $after, active: true) {
  edges { node { id sku skus { id code price { amount } active } } } pageInfo { hasNextPage endCursor } } }"""

TEAMS = "{ teams(first: 100) { edges { node { id name } } } }"

LIVESTREAMS = """query($status: LivestreamStatus) { livestreams(first: 100, status: $status) {
  edges { node { id title status team { id }
    couponCampaigns(first: 20) { edges { node { id name active remaining claimable } } } } } } }"""

LIVESTREAM_UPDATE = """mutation($input: LivestreamUpdateInput!) { livestreamUpdate(input: $input) {
  livestream { id status } errors { code message } } }"""

LIVESTREAM_CREATE = """mutation($input: LivestreamCreateInput!) { livestreamCreate(input: $input) {
  livestream { id status } errors { code message } } }"""

CAMPAIGN_CREATE = """mutation($input: CouponCampaignCreateInput!) { couponCampaignCreate(input: $input) {
  campaign { id } errors { code message } } }"""

COUPON_CLAIM = """mutation($input: CouponClaimInput!) { couponClaim(input: $input) {
  coupon { id code status } errors { code message } } }"""

NEARBY_STORES = """query($location: LocationInput!) { nearbyStores(location: $location, first: 10) {
  store { id code } distanceMeters } }"""

AVAILABLE_SLOTS = """query($store: ID!, $from: Date!, $to: Date!) {
  availableSlots(storeId: $store, from: $from, to: $to) { start end remaining } }"""

BOOKING_CREATE = """mutation($input: BookingCreateInput!) { bookingCreate(input: $input) {
  booking { id slotStart store { id } } errors { code message } } }"""

MY_TASKS = """query($after: String) { myTaskList(first: 100, after: $after, status: [OPEN]) {
  edges { node { id status booking { id } } } pageInfo { hasNextPage endCursor } } }"""

TASK_ACKNOWLEDGE = """mutation($id: ID!) { taskAcknowledge(input: {id: $id}) {
  task { id status } errors { code message } } }"""

BOOKING_CHECK_IN = """mutation($id: ID!) { bookingCheckIn(input: {bookingId: $id}) {
  booking { id status guide { id } } errors { code message } } }"""

CUSTOMER_WALK_IN = """mutation($store: ID!, $phone: String!) { customerWalkIn(input: {storeId: $store, phone: $phone}) {
  customer { id } errors { code message } } }"""

ORDER_CREATE = """mutation($input: OrderCreateInput!) { orderCreate(input: $input) {
  order { id total { amount } lines { id quantity } } errors { code message } } }"""

ORDER_PAY = """mutation($input: OrderPayInput!) { orderPay(input: $input) {
  order { id status } errors { code message } } }"""

ORDER_REFUND = """mutation($input: OrderRefundInput!) { orderRefund(input: $input) {
  refund { id } errors { code message } } }"""

MONEY = "{ amount currency }"

PERFORMANCE = f"""query($period: String!, $scope: PerformanceScope, $id: ID) {{
  performance(period: $period, scope: $scope, id: $id) {{
    creditedRevenue {MONEY} commission {MONEY} orders gmv {MONEY}
    averageOrderValueBooked {MONEY} averageOrderValueOthers {MONEY} aovUpliftPercent
    bookings checkIns noShows arrivalRate purchaseRate acknowledgementSecondsP50 slaBreaches ugcPosts }} }}"""

UGC_SUBMIT = (
    """mutation($input: UgcSubmitInput!) { ugcSubmit(input: $input) { post { id } errors { code message } } }"""
)

UGC_MODERATE = """mutation($input: UgcModerateInput!) { ugcModerate(input: $input) {
  post { id status } errors { code message } } }"""

UGC_FEATURE = """mutation($input: UgcFeatureInput!) { ugcFeature(input: $input) {
  post { id status } errors { code message } } }"""

LEADERBOARD = f"""query($scope: PerformanceScope!, $period: String!, $first: Int!) {{
  leaderboard(scope: $scope, period: $period, first: $first) {{
    total entries {{ rank id name creditedRevenue {MONEY} commission {MONEY} orders }} }} }}"""

LIVESTREAM_BOOKINGS = """query($livestream: ID!, $after: String) { bookings(livestreamId: $livestream, first: 100,
  after: $after) { totalCount pageInfo { hasNextPage endCursor } } }"""
