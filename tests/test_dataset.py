"""Every table of the schema is exported or deliberately left out, and every named column exists."""
from __future__ import annotations

import pytest

from widget_server.dataset import LEFT_OUT, SECTIONS, SITE_COLUMNS
from widget_server.extensions import db


def test_every_table_is_exported_or_left_out_on_purpose():
    exported = {section.name for section in SECTIONS}
    forgotten = set(db.metadata.tables) - exported - set(LEFT_OUT)
    assert not forgotten, (f"tables neither exported nor in dataset.LEFT_OUT: {sorted(forgotten)}; "
                           "add a Section (in foreign-key order) or say why it is left out")
    assert not exported & set(LEFT_OUT)


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: s.name)
def test_each_section_names_real_columns_and_comes_after_what_it_points_at(section):
    columns = {c.name for c in section.table.columns}
    assert set(section.derived) | set(section.secret) <= columns
    assert "id" in section.columns(with_secrets=False)
    earlier = {s.name for s in SECTIONS[:SECTIONS.index(section) + 1]}
    for key in section.table.foreign_keys:
        assert key.column.table.name in earlier, f"{section.name} points at {key.column.table.name}"


def test_every_column_naming_a_site_is_one_a_restore_translates():
    # A site's id is this server's alone: a restore maps each such column through the file's sites
    # (importers/restore.py), so a new one must be listed, or a site's row could land on another.
    naming = {f"{table.name}.{column.name}" for table in db.metadata.tables.values()
              for column in table.columns
              if "site" in column.name and column.name != "website"}  # website: a commenter's home page
    assert naming and all(name.split(".")[1] in SITE_COLUMNS for name in naming), sorted(naming)
    assert SECTIONS[0].name == "sites"  # before every row that names one
