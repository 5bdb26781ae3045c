"""Evidence packs: a zip an inspector can check with nothing but the zip.

``build_pack`` writes selected events (their canonical leaf bytes), an inclusion proof for each
against the latest checkpoint, the signed checkpoints with their timestamp tokens, consistency
proofs between successive checkpoints and to the latest, the public keys, the analysis output, a
README for the inspector and a manifest with the SHA-256 of every file. ``verify_pack`` checks all
of it using only the pack and returns a ``PackReport``; it never prints.

By job:

- ``layout``: member names, the manifest format and the verifier's limits (the layout table);
- ``build``: the proofs a pack needs, its files and the deterministic zip;
- ``readme``: the inspector's README with the OpenSSL commands;
- ``verify``: the offline verifier (importable without the store's libraries).
"""

from __future__ import annotations

from insightlog.proof.pack.build import PackKey, build_pack, pack_proofs
from insightlog.proof.pack.layout import (
    MANIFEST,
    MANIFEST_SIGNATURE,
    MAX_COMPRESSION_RATIO,
    MAX_MEMBER_BYTES,
    MAX_MEMBERS,
    MAX_PARSED_MEMBER_BYTES,
    MAX_TOTAL_BYTES,
    PACK_FORMAT,
    PACK_FORMAT_VERSION,
    README,
    PackError,
    member_name_problem,
)
from insightlog.proof.pack.readme import render_readme
from insightlog.proof.pack.verify import Check, PackMembers, PackReport, TrustedKeys, verify_pack

__all__ = [
    "MANIFEST",
    "MANIFEST_SIGNATURE",
    "MAX_COMPRESSION_RATIO",
    "MAX_MEMBERS",
    "MAX_MEMBER_BYTES",
    "MAX_PARSED_MEMBER_BYTES",
    "MAX_TOTAL_BYTES",
    "PACK_FORMAT",
    "PACK_FORMAT_VERSION",
    "README",
    "Check",
    "PackError",
    "PackKey",
    "PackMembers",
    "PackReport",
    "TrustedKeys",
    "build_pack",
    "member_name_problem",
    "pack_proofs",
    "render_readme",
    "verify_pack",
]
