"""The plain-language README an inspector reads first, with the OpenSSL commands for the pack."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from insightlog.proof.canonical import LEAF_FORMAT_VERSION
from insightlog.proof.checkpoint import SignedCheckpoint
from insightlog.proof.pack.layout import CheckpointFiles


def render_readme(
    *,
    origin: str,
    created_at: datetime,
    event_count: int,
    latest: SignedCheckpoint,
    checkpoints: Sequence[CheckpointFiles],
    keys: Sequence[Mapping[str, str]],
    example_event: tuple[int, str, str] | None,
    has_analysis: bool,
    has_tsa_ca: bool,
    manifest_key_file: str,
) -> str:
    """The plain-language README for the inspector, with the OpenSSL commands for this pack.

    ``manifest_key_file`` is the pack's file of the provider key that signed ``manifest.json``.
    """
    cp = latest.checkpoint
    when = created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    out: list[str] = []
    w = out.append
    w("EVIDENCE PACK")
    w("=============")
    w("")
    w(f"Log (store) identifier: {origin}")
    w(f"Pack made: {when}")
    w(f"Events in this pack: {event_count}")
    w(
        f"Latest checkpoint: {cp.size} events in the whole log, root hash {cp.root_hash.hex()}, "
        f"signed {cp.timestamp.strftime('%Y-%m-%d %H:%M:%S UTC')}"
    )
    w("")
    w("WHAT THIS PACK PROVES")
    w("")
    w("The provider's records are kept in an append-only log. Every event ever written is a leaf")
    w("of one Merkle tree (the scheme of RFC 9162, Certificate Transparency), in the order it was")
    w("written. From time to time the provider signs a 'checkpoint': the number of events so far")
    w("and the tree's root hash, a 32-byte fingerprint of all of them. An independent")
    w("timestamping authority may countersign it (RFC 3161), and a second key holder (a witness)")
    w("may co-sign it. This pack lets you check, with nothing but this zip:")
    w("")
    w("  1. that each event in events/ is exactly as it was written to the log (its leaf hash")
    w("     and inclusion proof lead to the root hash in the latest signed checkpoint);")
    w("  2. that the checkpoints are signed by the keys in keys/ and, where present, were")
    w("     timestamped by the authority no later than the time in the token;")
    w("  3. that each checkpoint is an earlier state of the next one: nothing was removed or")
    w("     changed between them, only added (consistency proofs in consistency/);")
    w("  4. that no file in the pack was altered (manifest.json lists the SHA-256 of every file)")
    w("     and that the manifest, and so the analysis output, was signed by the provider.")
    w("")
    w("What it does not prove: that the provider wrote true things. It shows the record was")
    w("not rewritten after the fact. Events marked 'backfill:' in their ledger.source were")
    w("entered after the time they describe; their recorded time rests on the provider's word.")
    w("")
    w("Nothing in the log is ever edited or erased. An entry made in error is withdrawn by a")
    w("later EntryWithdrawn event whose payload 'withdraws' names it (and says why); a")
    w("replacement entry names the withdrawn one in its payload 'corrects'. Both stay in the log")
    w("and in this pack; the list at the top of this README marks each withdrawn entry.")
    w("")
    w("Check the key ids below against the ones the provider published or gave you separately:")
    w("a pack can only show that its contents agree with the keys inside it.")
    w("")
    for key in keys:
        w(f"  {key['role']:<9} {key['key_id']}  ({key['file']})")
    w("")
    w("THE FILES")
    w("")
    w("  README.txt              this text")
    w("  manifest.json           SHA-256 of every other file")
    w("  manifest.sig            provider's Ed25519 signature over manifest.json")
    if has_analysis:
        w("  analysis.json           the analysis output this pack supports")
    w("  events.jsonl            the events, one per line (the exact bytes that were hashed)")
    w("  events/NNNNNNNNNN.json  the same, one file per event, named by log position")
    w("  proofs/NNNNNNNNNN.json  that event's leaf hash and inclusion proof")
    w("  checkpoints.jsonl       the signed checkpoints")
    w("  checkpoints/NNNN/       per checkpoint: body.txt (the signed text), *.sig (signatures),")
    w("                          timestamp.tsr (RFC 3161 timestamp, if any)")
    w("  consistency/            proofs that each checkpoint extends the one before")
    w("  keys/                   the public keys (PEM)")
    if has_tsa_ca:
        w("  tsa/ca.pem              the timestamping authority's CA certificate")
    w("")
    w("CHECKING WITH INSIGHTLOG")
    w("")
    w("    insightlog verify-pack THIS-PACK.zip")
    w("")
    w("It needs only this file, and reports each check with its result.")
    w("")
    w("CHECKING WITH STANDARD TOOLS (OpenSSL 3.0 or later)")
    w("")
    w("Unzip the pack and run these in its folder.")
    w("")
    w("a) File integrity. Each file's SHA-256 must equal its entry in manifest.json:")
    w("")
    w("    openssl dgst -sha256 events.jsonl")
    w("")
    w("   and the manifest's signature must verify (prints 'Signature Verified Successfully'):")
    w("")
    w(f"    openssl pkeyutl -verify -pubin -inkey {manifest_key_file} -rawin -in manifest.json -sigfile manifest.sig")
    w("")
    w("b) Checkpoint signatures. Each must print 'Signature Verified Successfully':")
    w("")
    for files in checkpoints:
        for sig_file, _role, key_file in files.signature_files:
            w(
                f"    openssl pkeyutl -verify -pubin -inkey {key_file} -rawin "
                f"-in {files.directory}/body.txt -sigfile {sig_file}"
            )
    w("")
    w("   body.txt holds four lines: log identifier, number of events, root hash (base64) and")
    w("   time. The root hash in hex, as in the other files, is:")
    w("")
    w(f"    sed -n 3p {checkpoints[-1].directory}/body.txt | openssl base64 -d | od -An -v -tx1 | tr -d ' \\n'")
    w("")
    with_tokens = [f for f in checkpoints if f.signed.tsa_token is not None]
    if with_tokens:
        w("c) Timestamps. Each must print 'Verification: OK'. The authority's token says the")
        w("   checkpoint existed at the time it states:")
        w("")
        ca = "tsa/ca.pem" if has_tsa_ca else "TSA-CA.pem"
        for files in with_tokens:
            w(
                f"    openssl ts -verify -in {files.directory}/timestamp.tsr "
                f"-data {files.directory}/body.txt -CAfile {ca}"
            )
        w("")
        if not has_tsa_ca:
            w("   TSA-CA.pem is the timestamping authority's CA certificate, from the authority.")
        else:
            w("   tsa/ca.pem came with the pack; compare it with the authority's published CA.")
        w("   To read a token:  openssl ts -reply -in <file>.tsr -text")
        w("")
    else:
        w("c) Timestamps: none of these checkpoints carries an RFC 3161 timestamp.")
        w("")
    w("d) Leaf hashes. A leaf hash is SHA-256 of one zero byte followed by the event's bytes:")
    w("")
    if example_event is not None:
        _position, name, leaf_hex = example_event
        w(f"    printf '\\000' | cat - {name} | openssl dgst -sha256")
        w("")
        w(f"   gives {leaf_hex}, the leaf_hash in proofs/{name.split('/')[1]}.")
    else:
        w("    printf '\\000' | cat - events/NNNNNNNNNN.json | openssl dgst -sha256")
    w("")
    w("e) Inclusion and consistency proofs. OpenSSL does not walk Merkle proofs; the steps are")
    w("   in RFC 9162 sections 2.1.3.2 (inclusion) and 2.1.4.2 (consistency), with SHA-256,")
    w("   leaf prefix 0x00 and node prefix 0x01. Each proofs/ file gives leaf_index (the log")
    w("   position minus one), tree_size, leaf_hash, the path (hex, leaf side first) and the")
    w("   root_hash it must reach, which is the latest checkpoint's. Each consistency/ file gives")
    w("   old_size, old_root, new_size, new_root and the path. Any RFC 9162 or Certificate")
    w("   Transparency library can check them.")
    w("")
    w("HOW AN EVENT IS ENCODED")
    w("")
    w("Each event file is the RFC 8785 (JSON Canonicalization Scheme) form of one JSON object")
    w(f'with the member "v": {LEAF_FORMAT_VERSION}, the 13 interchange envelope fields (event_id, service,')
    w("theme, location, team, shift, kind, actor_role, actor_id, record, observed_at,")
    w("recorded_at, payload) and 'ledger' {position, appended_at, source}: no spaces, members")
    w("sorted, UTF-8. The same event always gives the same bytes, whatever database held it.")
    w("")
    return "\n".join(out)
