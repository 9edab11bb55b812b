"""Vietnamese wording for click's own messages (usage, help, errors).

Click marks its strings with gettext; station staff read them, so they are
given in Vietnamese here. Strings not listed stay as click wrote them.
"""

from __future__ import annotations

import importlib

import click

MESSAGES = {
    "Usage:": "Cách dùng:",
    "Options": "Tùy chọn",
    "Commands": "Lệnh",
    "Show this message and exit.": "Xem hướng dẫn này rồi thoát.",
    "Show the version and exit.": "Xem phiên bản rồi thoát.",
    "Error: {message}": "Lỗi: {message}",
    "Try '{command} {option}' for help.": "Xem hướng dẫn: '{command} {option}'.",
    "No such command {name!r}.": "Không có lệnh {name!r}.",
    "Missing command.": "Thiếu lệnh.",
    "No such option: {name}": "Không có tùy chọn {name}.",
    "Invalid value: {message}": "Giá trị không hợp lệ: {message}",
    "Invalid value for {param_hint}: {message}": "Giá trị không hợp lệ cho {param_hint}: {message}",
    "Missing argument": "Thiếu tham số",
    "Missing option": "Thiếu tùy chọn",
    "Missing parameter": "Thiếu tham số",
    "Missing parameter: {param_name}": "Thiếu tham số: {param_name}",
    "Got unexpected extra argument ({args})": "Thừa tham số ({args}). Câu có dấu cách thì hãy đặt trong dấu ngoặc kép.",
    "Got unexpected extra arguments ({args})": "Thừa các tham số ({args}). Câu có dấu cách thì hãy đặt trong dấu ngoặc kép.",
    "Option {name!r} requires an argument.": "Tùy chọn {name!r} cần một giá trị.",
    "Option {name!r} does not take a value.": "Tùy chọn {name!r} không nhận giá trị.",
    "default: {default}": "mặc định: {default}",
    "required": "bắt buộc",
    "Aborted!": "Đã dừng.",
    "file": "tệp",
    "directory": "thư mục",
    "path": "đường dẫn",
    # click writes the kind of path ("File", "Directory") title-cased before the name; the
    # Vietnamese sentences say it themselves, so "Thư Mục" never appears.
    "{name} {filename!r} does not exist.": "Không tìm thấy {filename!r}.",
    "{name} {filename!r} is a file.": "{filename!r} là tệp, không phải thư mục.",
    "{name} {filename!r} is a directory.": "{filename!r} là thư mục, không phải tệp.",
    "{name} {filename!r} is not readable.": "Không đọc được {filename!r}.",
    "{name} {filename!r} is not writable.": "Không ghi được {filename!r}.",
    "{value!r} is not a valid {number_type}.": "{value!r} không phải số hợp lệ.",
    "Did you mean {possibility}?": "Có phải bạn định gõ {possibility}?",
    "(Possible options: {possibilities})": "(Các tùy chọn gần giống: {possibilities})",
    "Choose from:\n\t{choices}": "Chọn một trong:\n\t{choices}",
    "{value!r} is not {choice}.": "{value!r} không phải {choice}.",
    "{value!r} is not one of {choices}.": "{value!r} không phải một trong {choices}.",
    "{value} is not in the range {range}.": "{value} không nằm trong khoảng {range}.",
    "{value!r} is not a valid boolean.": "{value!r} không phải giá trị có/không hợp lệ.",
    "{name} {filename!r} is not executable.": "{filename!r} không chạy được.",
    "Could not open file {filename!r}: {message}": "Không mở được tệp {filename!r}: {message}",
    "Option {name!r} requires {nargs} arguments.": "Tùy chọn {name!r} cần {nargs} giá trị.",
    "Argument {name!r} takes {nargs} values.": "Tham số {name!r} cần {nargs} giá trị.",
    "Missing {param_type}": "Thiếu {param_type}",
    "unknown error": "lỗi không rõ",
    "Repeat for confirmation": "Nhập lại để xác nhận",
    "Error: The two entered values do not match.": "Lỗi: Hai lần nhập không giống nhau. Hãy nhập lại.",
    "Error: The value you entered was invalid.": "Lỗi: Giá trị vừa nhập không hợp lệ. Hãy nhập lại.",
    "Error: invalid input": "Lỗi: Giá trị vừa nhập không hợp lệ. Hãy nhập lại.",
}


class IntRange(click.IntRange):
    """An integer range whose bounds read as Vietnamese in help and errors ("từ 0 đến 64")."""

    def _describe_range(self) -> str:
        # click writes "0<=x<=64", which staff do not read as a sentence.
        if self.min is not None and self.max is not None:
            return f"từ {self.min} đến {self.max}"
        if self.min is not None:
            return f"từ {self.min} trở lên"
        return f"đến {self.max}"


def translate(message: str) -> str:
    """Return the Vietnamese wording of one of click's messages."""
    return MESSAGES.get(message, message)


def install() -> None:
    """Point click's gettext hooks at the Vietnamese wording."""
    for name in ("core", "formatting", "exceptions", "decorators", "parser", "types", "termui"):
        try:
            module = importlib.import_module(f"click.{name}")
        except ImportError:  # pragma: no cover - module layout differs by version
            continue
        if callable(getattr(module, "_", None)):
            module._ = translate
        if callable(getattr(module, "ngettext", None)):
            original = module.ngettext

            def ngettext(singular: str, plural: str, n: int, _orig=original) -> str:
                return translate(_orig(singular, plural, n))

            module.ngettext = ngettext
