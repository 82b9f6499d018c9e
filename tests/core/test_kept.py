from accord.core.kept import Kept


def test_a_value_is_built_once_per_key_and_again_when_no_longer_fresh() -> None:
    kept: Kept[list[int]] = Kept(most=8)
    builds: list[str] = []

    def build(name: str) -> list[int]:
        builds.append(name)
        return [len(builds)]

    first = kept.get(("a",), lambda: build("a"))
    assert kept.get(("a",), lambda: build("a")) is first
    assert kept.get(("b",), lambda: build("b")) is not first
    again = kept.get(("a",), lambda: build("a"), fresh=lambda value: value != first)
    assert again == [3] and builds == ["a", "b", "a"]


def test_the_store_is_emptied_when_full_and_never_holds_more_than_its_bound() -> None:
    kept: Kept[int] = Kept(most=3)
    for n in range(10):
        kept.get((n,), lambda n=n: n)  # type: ignore[misc]
        assert len(kept.items()) <= 3
    assert kept.items() == [((9,), 9)]
