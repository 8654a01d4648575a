"""Static checks: operations valid against schema.graphql, presenters free of Kivy, every message translated."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from graphql import NoDeprecatedCustomRule, build_schema, validate

from guide_app.api.documents import document, operation_names
from guide_app.i18n import catalog_path, compile_catalog

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "guide_app"
SCHEMA = build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))
# _("…") where shown, N_("…") where marked for later (the server codes' messages), on one line or several.
MESSAGE = re.compile(r'\b(?:N_|_)\(\s*"((?:[^"\\]|\\.)*)"\s*\)')


def test_there_are_operations_for_each_screen():
    assert {
        "StaffLogin",
        "TokenRefresh",
        "Logout",
        "MyTaskList",
        "MyTasks",
        "TaskDetail",
        "TaskAcknowledge",
        "TaskStepComplete",
        "TaskComplete",
        "BookingCheckIn",
        "Customer360",
        "CustomerTimeline",
        "ProductSearch",
        "SkuByBarcode",
        "SkuInventory",
        "CheckoutCustomer",
        "OrderCreate",
        "OrderCancel",
        "OrderPay",
        "OrderDetail",
        "OrderPaid",
    } <= set(operation_names())


@pytest.mark.parametrize("name", operation_names())
def test_each_operation_is_valid_against_the_committed_schema(name):
    assert validate(SCHEMA, document(name)) == []


@pytest.mark.parametrize("name", operation_names())
def test_no_operation_uses_what_the_schema_deprecated(name):
    assert validate(SCHEMA, document(name), [NoDeprecatedCustomRule]) == []


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["presenters", "api", "i18n"])
def test_logic_does_not_import_kivy(package):
    for path in (APP / package).rglob("*.py"):
        kivy = {name for name in imported_modules(path) if name.split(".")[0] == "kivy"}
        assert not kivy, f"{path.relative_to(ROOT)} imports {kivy}"


def test_every_screen_has_a_module_and_a_kv_file():
    modules = {p.stem for p in (APP / "screens").glob("*.py") if p.stem != "__init__"}
    layouts = {p.stem for p in (APP / "screens").glob("*.kv")}
    assert {"signin", "inbox", "reception", "customer"} <= layouts and layouts <= modules


def messages_in_sources() -> set[str]:
    found = set()
    for path in [*APP.rglob("*.py"), *APP.rglob("*.kv")]:
        found.update(m.replace('\\"', '"') for m in MESSAGE.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_message_has_a_chinese_translation():
    catalog = compile_catalog("zh_CN")
    missing = sorted(m for m in messages_in_sources() if catalog.gettext(m) == m)
    assert missing == [], f"add these to {catalog_path('zh_CN').relative_to(ROOT)}"


def test_placeholders_survive_translation():
    catalog = compile_catalog("zh_CN")
    for message in messages_in_sources():
        assert set(re.findall(r"{\w+}", catalog.gettext(message))) == set(re.findall(r"{\w+}", message)), message


def test_english_is_the_fallback():
    from guide_app.i18n import _, use_language

    assert use_language("fr_FR") == "en"
    assert _("Wrong username or password.") == "Wrong username or password."
    assert use_language("zh_CN") == "zh_CN"
    assert _("Wrong username or password.") == "用户名或密码错误。"
