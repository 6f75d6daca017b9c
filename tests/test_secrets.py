"""DSNs are redacted by parsing them, in every form; driver errors are scrubbed of them."""

from __future__ import annotations

import pytest

from hil.secrets import redact_url, scrub

CASES = [
    ("postgresql://analyst:s3cret@db:5432/fleet", "postgresql://analyst:***@db:5432/fleet"),
    ("postgresql://:s3cret@db/fleet", "postgresql://:***@db/fleet"),
    ("postgresql://u:p@ss/w?rd@host/db", "postgresql://u:***@host/db"),
    ("postgresql://u:p%zzss@host/db", "postgresql://u:***@host/db"),
    ("postgresql://u@host/db?sslmode=require&password=abc", "postgresql://u@host/db?sslmode=require&password=***"),
    ("postgresql://u@host/db?password=abc&app=a@b", "postgresql://u@host/db?password=***&app=a@b"),
    ("postgresql://u:pw@host/db?application_name=a@b", "postgresql://u:***@b"),  # less shown, never more
    ("postgresql://host/db", "postgresql://host/db"),
    ("sqlite:////srv/hil/hil.db", "sqlite:////srv/hil/hil.db"),
    ("host=db user=u password='a b' dbname=x", "user=u password=*** dbname=x host=db"),
    ("host=db password=abc", "password=*** host=db"),
    ("host=db password='unclosed", "*** (a DSN that could not be parsed)"),
]


@pytest.mark.parametrize(("dsn", "shown"), CASES)
def test_every_form_is_shown_without_its_password(dsn: str, shown: str) -> None:
    assert redact_url(dsn) == shown


def test_driver_errors_lose_the_dsn_and_the_password_raw_and_decoded() -> None:
    dsn = "postgresql://u:p%40ss@h/d"
    message = f"invalid connection {dsn}: password p%40ss (p@ss) rejected"
    scrubbed = scrub(message, dsn)
    assert "p%40ss" not in scrubbed and "p@ss" not in scrubbed and dsn not in scrubbed
    assert scrub("nothing secret", None) == "nothing secret"
