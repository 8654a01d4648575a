"""A tab whose screen comes with a later issue (收银, 业绩): it says 即将推出."""

from __future__ import annotations

from kivy.properties import StringProperty
from kivymd.uix.screen import MDScreen


class PlaceholderScreen(MDScreen):
    icon = StringProperty("")
    title = StringProperty("")
