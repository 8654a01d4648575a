"""Kivy screens: each ``<name>.py`` draws its presenter with the layout in ``<name>.kv``."""

from pathlib import Path

from kivy.lang import Builder

KV_DIR = Path(__file__).parent
KV_FILES = [
    "widgets.kv",
    "signin.kv",
    "inbox.kv",
    "reception.kv",
    "customer.kv",
    "performance.kv",
    "profile.kv",
    "search.kv",
    "checkout.kv",
    "payment.kv",
    "qr_wait.kv",
    "receipt.kv",
    "shell.kv",
]


def load_layouts() -> None:
    for name in KV_FILES:
        path = str(KV_DIR / name)
        Builder.unload_file(path)
        Builder.load_file(path)
