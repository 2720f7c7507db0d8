"""The Binder link comes from one setting (BINDER_REPO) or the GitHub remote, never a made-up address."""
import pytest

from scripts import binder_url


@pytest.mark.parametrize("remote", ["https://github.com/my-school/gans-course.git", "git@github.com:my-school/gans-course.git",
                                    "https://github.com/my-school/gans-course"])
def test_the_repository_is_read_from_a_github_remote(remote, monkeypatch):
    monkeypatch.delenv("BINDER_REPO", raising=False)
    assert binder_url.repository(remote) == "my-school/gans-course"
    assert binder_url.binder_url("my-school/gans-course") == \
        "https://mybinder.org/v2/gh/my-school/gans-course/HEAD?urlpath=lab/tree/course"


def test_the_setting_wins_and_is_checked(monkeypatch):
    monkeypatch.setenv("BINDER_REPO", "uni/course")
    assert binder_url.repository("https://github.com/other/repo") == "uni/course"
    monkeypatch.setenv("BINDER_REPO", "not a repo")
    with pytest.raises(ValueError, match="owner/name"):
        binder_url.repository()


def test_without_a_github_remote_it_says_what_to_do(monkeypatch):
    monkeypatch.delenv("BINDER_REPO", raising=False)
    with pytest.raises(ValueError, match="BINDER_REPO"):
        binder_url.repository("/srv/git/course.git")
