"""URL parts that are codes: letters and digits only, so nothing else reaches a query.

(A NUL byte in a path would otherwise reach PostgreSQL, which refuses it with an error.)
"""

from django.urls import register_converter


class CodeConverter:
    regex = "[A-Za-z0-9]{1,20}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CodeConverter, "code")
