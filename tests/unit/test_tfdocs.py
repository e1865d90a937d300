"""The module READMEs' input and output tables follow the Terraform (local/tfdocs.py)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from local import tfdocs

VARIABLES = textwrap.dedent(
    """
    variable "name" {
      description = "Prefix of every <name>-thing, \\"quoted\\" | piped."
      type        = string

      validation {
        # a nested block's own "type = ..." must not be taken for the variable's
        condition     = length(var.name) > 2
        error_message = "type = must be long: ${var.name}"
      }
    }

    variable "limits" {
      description = <<-EOT
        Limits per merchant.
        Second line of the heredoc.
      EOT
      type = object({
        # requests per second; the braces in "{x}" are a string's
        rate  = optional(number, 10)
        burst = optional(number)
      })
      default = {
        rate = 5
      }
    }

    variable "optional_arn" {
      description = "Null means none."
      type        = string
      default     = null
    }
    """
)

OUTPUTS = textwrap.dedent(
    """
    output "table_arn" {
      description = "ARN of the table."
      value       = "arn"
    }

    output "secret" {
      description = "A key."
      value       = "x"
      sensitive   = true
    }
    """
)

VERSIONS = textwrap.dedent(
    """
    terraform {
      required_version = ">= 1.11"
      required_providers {
        aws = {
          source  = "hashicorp/aws"
          version = ">= 5.100, < 6.0"
        }
      }
    }
    """
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    module = tmp_path / "modules" / "thing"
    module.mkdir(parents=True)
    (module / "variables.tf").write_text(VARIABLES)
    (module / "outputs.tf").write_text(OUTPUTS)
    (module / "versions.tf").write_text(VERSIONS)
    (module / "README.md").write_text(
        f"# thing\n\nProse kept.\n\n{tfdocs.BEGIN}\nold table\n{tfdocs.END}\n\n## Tests\n"
    )
    return tmp_path


def test_every_input_gets_its_description_type_default_and_whether_it_is_required(
    repo: Path,
) -> None:
    docs = tfdocs.read_module(repo / "modules" / "thing")
    by_name = {v.name: v for v in docs.variables}

    assert [v.name for v in docs.variables] == ["name", "limits", "optional_arn"]
    assert by_name["name"].required and by_name["name"].type == "string"
    assert by_name["name"].description == 'Prefix of every <name>-thing, "quoted" | piped.'
    assert by_name["limits"].description == "Limits per merchant.\nSecond line of the heredoc."
    assert by_name["limits"].type.splitlines()[0] == "object({"
    assert "# requests per second" in by_name["limits"].type
    assert by_name["limits"].default == "{\n  rate = 5\n}"
    assert not by_name["optional_arn"].required and by_name["optional_arn"].default == "null"


def test_the_tables_escape_what_markdown_would_take_for_markup(repo: Path) -> None:
    text = tfdocs.render(tfdocs.read_module(repo / "modules" / "thing"))

    row = next(line for line in text.splitlines() if line.startswith("| `name` |"))
    assert "&lt;name&gt;-thing" in row and "\\| piped" in row and row.endswith("| n/a | yes |")
    limits = next(line for line in text.splitlines() if line.startswith("| `limits` |"))
    assert "<pre>object({<br>" in limits and "| no |" in limits
    assert "| `secret` | A key. (sensitive) |" in text
    assert "| aws | `>= 5.100, < 6.0` |" in text


def test_make_docs_rewrites_only_between_the_markers_and_check_then_passes(repo: Path) -> None:
    assert tfdocs.run(repo, check=True) == ["modules/thing/README.md: stale, run `make docs`"]
    assert tfdocs.run(repo, check=False) == []

    readme = (repo / "modules" / "thing" / "README.md").read_text()
    assert readme.startswith("# thing\n\nProse kept.\n\n" + tfdocs.BEGIN)
    assert readme.endswith(tfdocs.END + "\n\n## Tests\n")
    assert "old table" not in readme
    assert tfdocs.run(repo, check=True) == []


def test_a_new_variable_makes_the_readme_stale(repo: Path) -> None:
    tfdocs.run(repo, check=False)
    with (repo / "modules" / "thing" / "variables.tf").open("a") as tf:
        tf.write('\nvariable "added" {\n  type = bool\n  default = false\n}\n')

    assert tfdocs.run(repo, check=True) == ["modules/thing/README.md: stale, run `make docs`"]
    assert tfdocs.main(["--check", "--root", str(repo)]) == 1


def test_a_readme_without_markers_is_refused_rather_than_guessed(repo: Path) -> None:
    (repo / "modules" / "thing" / "README.md").write_text("# thing\n\n## Inputs\n")

    problems = tfdocs.run(repo, check=False)

    assert problems == [
        f"modules/thing/README.md: no {tfdocs.BEGIN} ... {tfdocs.END} markers",
    ]


def test_terraform_that_does_not_parse_is_one_line_naming_the_module(repo: Path) -> None:
    (repo / "modules" / "thing" / "outputs.tf").write_text('output "x" {\n  value = "a\n}\n')

    problems = tfdocs.run(repo, check=True)

    assert len(problems) == 1 and problems[0].startswith("modules/thing: cannot parse")
