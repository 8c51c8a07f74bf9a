"""`hangar validate`, `build`, `diff` and `init`: no server, the portal's own builder."""

import subprocess
import zipfile

from deployments.artifacts.build import build_artifact
from deployments.artifacts.project_file import ProjectInfo
from deployments.artifacts.source import source_facts
from deployments.artifacts.starter import starter_files


def write_repository(folder, *, files=None):
    project = ProjectInfo(service_control_id=123, name="example", team="data-engine")
    for path, data in {**starter_files(project=project), **(files or {})}.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return folder


def git(folder, *args):
    subprocess.run(
        ["git", "-C", str(folder), "-c", "user.name=Jane Doe", "-c", "user.email=jane@example.com", *args],
        check=True, capture_output=True,
    )  # fmt: skip


def test_validate_exit_codes_and_messages(hangar, tmp_path):
    repository = write_repository(tmp_path / "repo")
    code, out, _ = hangar("validate", "repo")
    assert code == 0 and "sc-123-example: valid: dev (dsl), prod (dsl), test (dsl)" in out

    main = repository / "infrastructure" / "test" / "main.yaml"
    main.write_text(main.read_text() + "  bogus: 1\n")
    (repository / "infrastructure" / "dev" / "main.yaml").write_text(
        "infrastructure:\n  gcp:\n    datasets:\n      - name: Bad Name\n"
    )
    code, out, err = hangar("validate", "repo")
    assert code == 1
    lines = out.splitlines()
    assert any(line.startswith("repo/infrastructure/dev/main.yaml:4:") for line in lines), out
    assert "repo/infrastructure/test/main.yaml:19:3: unknown key 'bogus' in 'infrastructure'; allowed: 'gcp'" in lines
    assert "2 problem(s)" in err
    # From inside the repository the paths are the repository's own.
    code, out, _ = hangar("validate", cwd=repository)
    assert code == 1 and "infrastructure/test/main.yaml:19:3: unknown key 'bogus'" in out.splitlines()[-1]

    assert hangar("validate", "no-such-folder")[0] == 2


def test_build_is_reproducible_and_byte_identical_to_the_portals(hangar, tmp_path):
    repository = write_repository(tmp_path / "repo")
    git(repository, "init", "-q")
    git(repository, "config", "user.name", "Jane Doe")
    git(repository, "add", "-A")
    git(repository, "commit", "-qm", "start")
    code, out, _ = hangar("build", "repo", "--version", "0.1.0")
    assert code == 0, out
    written = repository / "dist" / "sc-123-example-0.1.0.zip"
    assert out.strip() == "repo/dist/sc-123-example-0.1.0.zip" and written.is_file()
    # The builder is git's user.name; the build time the last commit's; the revision git's HEAD.
    metadata = zipfile.ZipFile(written).read("metadata.yaml").decode()
    assert "builder: Jane Doe" in metadata and "source_revision: " in metadata and "-dirty" not in metadata

    # Again, elsewhere: the same bytes.
    code, out, _ = hangar(
        "build", str(repository), "--version", "0.1.0", "--output", str(tmp_path / "again.zip"), cwd=tmp_path.parent
    )
    assert code == 0 and (tmp_path / "again.zip").read_bytes() == written.read_bytes()

    # The portal's builder (this checkout's code, in-process) gives the same bytes from the same commit.
    facts = source_facts(repository, builder="Jane Doe")
    portal = build_artifact(
        source_dir=repository,
        version="0.1.0",
        built_at=facts.built_at,
        builder=facts.builder,
        source_revision=facts.revision,
    )
    assert facts.revision and "-dirty" not in facts.revision
    assert portal.content == written.read_bytes()

    assert hangar("build", "repo", "--version", "not-a-version")[0] == 2
    (repository / "infrastructure" / "prod" / "main.yaml").write_text("infrastructure: [1]\n")
    code, out, err = hangar("build", "repo", "--version", "0.2.0")
    assert code == 1 and out.startswith("repo/infrastructure/prod/main.yaml:1:") and "nothing was written" in err
    assert not (repository / "dist" / "sc-123-example-0.2.0.zip").exists()


def test_diff_shows_the_dsl_first(hangar, tmp_path):
    repository = write_repository(tmp_path / "repo")
    assert hangar("build", "repo", "--version", "0.1.0", "--build-time", "2026-01-01T00:00:00Z")[0] == 0
    main = repository / "infrastructure" / "dev" / "main.yaml"
    main.write_text(main.read_text().replace("An example table", "A sample table"))
    assert hangar("build", "repo", "--version", "0.2.0")[0] == 0
    code, out, _ = hangar("diff", "repo/dist/sc-123-example-0.1.0.zip", "repo/dist/sc-123-example-0.2.0.zip")
    assert code == 1
    assert out.startswith("--- 0.1.0/infrastructure/dev/main.yaml\n+++ 0.2.0/infrastructure/dev/main.yaml\n")
    assert "+              description: A sample table; rename or remove it" in out
    assert "Generated Terraform: 1 file(s) changed" in out
    code, out, _ = hangar("diff", "repo/dist/sc-123-example-0.1.0.zip", "repo/dist/sc-123-example-0.1.0.zip")
    assert code == 0 and "hold the same files" in out


def test_init_writes_a_starter_that_validates(hangar, tmp_path):
    code, out, _ = hangar("init", "--project", "sc-7-reports", "--team", "data-engine")
    assert code == 0, out
    assert (
        tmp_path / "sc-7-reports" / "hangar.yaml"
    ).read_text() == "service_control_id: 7\nname: reports\nteam: data-engine\n"
    assert hangar("validate", "sc-7-reports")[0] == 0
    assert hangar("init", "--project", "sc-7-reports", "--team", "data-engine")[0] == 2  # will not overwrite
