"""A logging filter that keeps phone numbers and e-mail addresses out of every log line.

Kiungo code logs ids, never names or numbers; this filter is the safety net for what slips
through (an exception message quoting user input, a third-party library's log line).
"""

import logging
import re

# Seven or more digits, optionally with a leading + and separators: phone numbers in any format.
PHONE_PATTERN = re.compile(r"\+?\d(?:[\s.\-()]*\d){6,}")
EMAIL_PATTERN = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def redact(text: str) -> str:
    text = PHONE_PATTERN.sub("[phone]", text)
    return EMAIL_PATTERN.sub("[email]", text)


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            # Format the traceback once, redacted, and drop the live exception so that no
            # formatter (text or JSON) renders it again from the original.
            record.exc_text = redact(_plain.formatException(record.exc_info))
            record.exc_info = None
        return True


_plain = logging.Formatter()
