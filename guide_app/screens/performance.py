"""业绩: today's and this month's KPI cards (业绩, 佣金, 排名), a bar chart of her store's top guides drawn with
canvas instructions, and her store's and her city's leaderboards with her own row highlighted."""

from __future__ import annotations

from kivy.app import App
from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Rectangle, RoundedRectangle
from kivy.metrics import dp, sp
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.widget import Widget
from kivymd.uix.boxlayout import MDBoxLayout
from kivymd.uix.screen import MDScreen

from ..i18n import _
from ..presenters.performance import Bar, BoardRow, Figures, PerformancePresenter
from .widgets import Announcer

BAR_GAP = dp(12)
BAR_WIDEST = dp(48)
NAME_HEIGHT = dp(20)  # below each bar: the guide's name
VALUE_HEIGHT = dp(18)  # above each bar: her revenue


class KpiCard(MDBoxLayout):
    """今日 or 本月: 业绩 large, then 佣金 and her rank in the store and in the city."""

    title = StringProperty("")
    revenue = StringProperty("")
    commission = StringProperty("")
    store_rank = StringProperty("")
    city_rank = StringProperty("")

    def show(self, figures: Figures) -> None:
        self.revenue = figures.revenue
        self.commission = _("Commission {amount}").format(amount=figures.commission)
        self.store_rank = _("In store: {rank}").format(rank=figures.store_rank)
        self.city_rank = _("In the city: {rank}").format(rank=figures.city_rank)


class BoardLine(MDBoxLayout):
    """One place on a leaderboard; hers is tinted and says 我."""

    rank = StringProperty("")
    name = StringProperty("")
    revenue = StringProperty("")
    orders = StringProperty("")
    mine = BooleanProperty(False)

    @classmethod
    def of(cls, row: BoardRow) -> BoardLine:
        name = _("{name} (me)").format(name=row.name) if row.mine else row.name
        return cls(rank=row.rank, name=name, revenue=row.revenue, orders=row.orders, mine=row.mine)


def text_texture(text: str, width: float, font_size: float, bold: bool = False):
    """A one-line text as a texture at most ``width`` wide (shortened with … when longer)."""
    label = CoreLabel(text=text, font_size=font_size, bold=bold, text_size=(width, None), shorten=True, halign="center")
    label.refresh()
    return label.texture


class BarChart(Widget):
    """Bars of revenue drawn with canvas instructions: hers in the primary colour, the others muted."""

    bars = ListProperty([])

    def on_kv_post(self, base_widget) -> None:
        self.bind(size=self.redraw, pos=self.redraw, bars=self.redraw)

    def redraw(self, *_args) -> None:
        self.canvas.clear()
        if not self.bars:
            return
        theme = App.get_running_app().theme_cls
        slot = self.width / len(self.bars)
        with self.canvas:
            for index, bar in enumerate(self.bars):
                self._draw_bar(bar, self.x + index * slot, slot, theme)

    def _draw_bar(self, bar: Bar, left: float, slot: float, theme) -> None:
        room = self.height - NAME_HEIGHT - VALUE_HEIGHT
        height = max(dp(2), room * bar.height)
        width = min(BAR_WIDEST, max(dp(8), slot - BAR_GAP))
        x = left + (slot - width) / 2
        Color(rgba=theme.primaryColor if bar.mine else theme.secondaryContainerColor)
        RoundedRectangle(pos=(x, self.y + NAME_HEIGHT), size=(width, height), radius=[dp(4), dp(4), 0, 0])
        Color(rgba=theme.onSurfaceColor if bar.mine else theme.onSurfaceVariantColor)
        self._draw_text(bar.revenue, left, self.y + NAME_HEIGHT + height + dp(2), slot, sp(10), bar.mine)
        self._draw_text(bar.name, left, self.y + dp(2), slot, sp(11), bar.mine)

    def _draw_text(self, text: str, left: float, bottom: float, slot: float, size: float, bold: bool) -> None:
        texture = text_texture(text, slot - dp(2), size, bold)
        Rectangle(texture=texture, size=texture.size, pos=(left + (slot - texture.width) / 2, bottom))


class PerformanceScreen(MDScreen):
    presenter: PerformancePresenter | None = None

    def bind_presenter(self, presenter: PerformancePresenter) -> None:
        self.presenter = presenter
        self._announcer = Announcer()
        self._announcer.follow(presenter)
        presenter.subscribe(lambda _: self.redraw())
        self.redraw()

    def redraw(self) -> None:
        p, ids = self.presenter, self.ids
        ids.today.show(p.today())
        ids.month.show(p.this_month())
        bars = p.bars()
        ids.chart.bars = bars
        ids.chart_empty.text = "" if bars else _("No credited sales in your store this month yet.")
        self._fill(ids.store_board, p.store_rows())
        self._fill(ids.city_board, p.city_rows())
        ids.city_heading.text = _("{city} this month").format(city=p.city) if p.city else _("Your city this month")
        ids.status.text = _("Offline: the figures may be out of date.") if p.offline else ""
        self._announcer.announce_on(self, p)

    def _fill(self, box, rows: list[BoardRow]) -> None:
        box.clear_widgets()
        for row in rows:
            box.add_widget(BoardLine.of(row))
        if not rows:
            box.add_widget(BoardLine(name=_("No one ranked yet")))
