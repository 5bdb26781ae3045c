"""Read a report back: a small DOM built with the standard library's ``html.parser``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"meta", "br", "hr", "img", "link", "col", "wbr", "input", "source", "base", "area", "embed", "param", "track"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    parent: Node | None = None
    children: list[Node | str] = field(default_factory=list)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrs.get(name, default)

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    @property
    def elements(self) -> list[Node]:
        return [c for c in self.children if isinstance(c, Node)]

    def iter(self) -> Iterator[Node]:
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(
        self, tag: str | None = None, *, cls: str | None = None, where: Callable[[Node], bool] | None = None
    ) -> list[Node]:
        return [
            n
            for n in self.iter()
            if (tag is None or n.tag == tag) and (cls is None or cls in n.classes) and (where is None or where(n))
        ]

    def find(self, tag: str | None = None, **kw: object) -> Node | None:
        found = self.find_all(tag, **kw)  # type: ignore[arg-type]
        return found[0] if found else None

    def by_id(self, ident: str) -> Node | None:
        return self.find(where=lambda n: n.get("id") == ident)

    @property
    def text(self) -> str:
        parts: list[str] = []
        for child in self.children:
            parts.append(child if isinstance(child, str) else child.text)
        return "".join(parts)

    def ancestors(self) -> Iterator[Node]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.current = self.root
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.children.append(Node(tag, dict(attrs), self.current))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if self.current.tag != tag:
            self.errors.append(f"</{tag}> closes <{self.current.tag}>")
            node = self.current
            while node is not None and node.tag != tag:
                node = node.parent
            if node is None:
                return
            self.current = node
        self.current = self.current.parent or self.root

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(text: str) -> Node:
    """The document tree; raises if any element is left unclosed or closed out of order."""
    builder = _Builder()
    builder.feed(text)
    builder.close()
    if builder.errors or builder.current is not builder.root:
        raise AssertionError(f"malformed HTML: {builder.errors or ['unclosed <' + builder.current.tag + '>']}")
    return builder.root


def nullable(value: str | None) -> str | None:
    """A ``data-`` value back to the document's form: '' is null."""
    return None if value in (None, "") else value


def int_or_none(value: str | None) -> int | None:
    return None if value in (None, "") else int(value)  # type: ignore[arg-type]
