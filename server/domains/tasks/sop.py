"""Which SOP a reception follows, and the checklists HQ starts from."""

from __future__ import annotations

from enum import StrEnum


class CustomerType(StrEnum):
    LIVESTREAM_REFERRAL = "LIVESTREAM_REFERRAL"
    COMMUNITY_EVENT = "COMMUNITY_EVENT"
    RETURNING_CUSTOMER = "RETURNING_CUSTOMER"
    WALK_IN = "WALK_IN"


def step(title: str, guidance: str, required: bool = True) -> dict:
    return {"title": title, "guidance": guidance, "required": required}


# Used until HQ saves its own template for a customer type.
DEFAULT_STEPS: dict[CustomerType, list[dict]] = {
    CustomerType.LIVESTREAM_REFERRAL: [
        step("到店问候", "叫出她的名字，提到她看过的直播"),
        step("确认直播同款", "拿出她在直播里点过的产品"),
        step("试用体验", "按直播话术介绍卖点并试用"),
        step("介绍直播专享券", "提醒直播券仅限到店核销", required=False),
        step("邀请分享", "邀请她发布到店体验", required=False),
    ],
    CustomerType.COMMUNITY_EVENT: [
        step("到店问候", "感谢她参加社群活动"),
        step("了解需求", "询问她在社群里关注的问题"),
        step("试用体验", "推荐适合她的产品并试用"),
        step("邀请入群互动", "邀请她在社群分享心得", required=False),
    ],
    CustomerType.RETURNING_CUSTOMER: [
        step("到店问候", "欢迎回来，确认上次购买的使用感受"),
        step("回顾购买", "查看她的购买记录，补货或升级"),
        step("新品推荐", "按她的兴趣介绍新品", required=False),
    ],
    CustomerType.WALK_IN: [
        step("到店问候", "主动问候并了解来意"),
        step("了解需求", "询问肤质与偏好"),
        step("试用体验", "推荐并试用"),
        step("添加企业微信", "邀请她添加导购企业微信", required=False),
    ],
}
