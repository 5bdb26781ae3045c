"""The verifiable log's pure building blocks (no database access, no printing).

- ``canonical``: RFC 8785 canonical JSON and the leaf encoding of an entry;
- ``merkle``: RFC 9162 Merkle tree, inclusion and consistency proofs and their verifiers;
- ``keys``: Ed25519 key files and key ids;
- ``checkpoint``: signed tree heads, their signed body and JSON form;
- ``tsa``: RFC 3161 timestamp requests and token verification;
- ``pack``: evidence packs, built and verified from plain data (``layout``, ``build``,
  ``readme``, ``verify``; the verifier distrusts the zip and loads no store library).

The formats are specified in ``docs/proof-format.md``.
"""
