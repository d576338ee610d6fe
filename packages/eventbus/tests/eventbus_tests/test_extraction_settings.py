"""The settings a module's code reads, found in its source."""

import textwrap

from eventbus.operations.extraction.settings_reads import SettingRead, scan


def test_every_way_of_reading_a_setting_is_found_and_tests_are_skipped(tmp_path, monkeypatch):
    package = tmp_path / "readsome"
    (package / "tests").mkdir(parents=True)
    (package / "migrations").mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text(
        textwrap.dedent(
            """\
            import django.conf
            from django.conf import settings
            from django.conf import settings as conf

            A = settings.FIRST
            B = getattr(conf, "SECOND", None)
            C = django.conf.settings.THIRD
            D = hasattr(settings, "FIRST")
            E = other.settings.NOT_THIS
            """
        )
    )
    (package / "tests" / "test_a.py").write_text(
        "from django.conf import settings\nX = settings.IN_A_TEST\n"
    )
    (package / "migrations" / "0001_initial.py").write_text(
        "from django.conf import settings\nX = settings.IN_A_MIGRATION\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    assert scan("readsome", packages=("readsome",)) == [
        SettingRead("FIRST", ["readsome/a.py:5", "readsome/a.py:8"]),
        SettingRead("SECOND", ["readsome/a.py:6"]),
        SettingRead("THIRD", ["readsome/a.py:7"]),
    ]
