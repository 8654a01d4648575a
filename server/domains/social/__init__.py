"""The share loop: customers' posts about their visits (UGC), moderation and featuring, referral codes and arrivals."""
