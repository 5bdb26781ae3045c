"""Proof commands: keys, checkpoints, inclusion proofs, verification."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from insightlog.cli import output
from insightlog.cli.main import Context, run


def _passphrase() -> bytes | None:
    value = os.environ.get("INSIGHTLOG_KEY_PASSPHRASE")
    return value.encode() if value else None


def auto_checkpoint(obj: Context) -> None:
    """After a command that wrote: checkpoint when a signing key is configured."""
    from insightlog.proof.paths import checkpoint_file, key_path

    path = key_path(obj.key)
    if not path.exists():
        return
    from insightlog.application.proofs import take_checkpoint

    signed, new = run(take_checkpoint, obj.ledger, path, outside_file=checkpoint_file(obj.checkpoint_file), passphrase=_passphrase())
    if new:
        cp = signed.checkpoint
        output.note(f"checkpoint: {cp.size} events, root {cp.root_hash.hex()[:16]}…, signed and appended to {checkpoint_file(obj.checkpoint_file)}")


@click.group()
def keys() -> None:
    """Signing keys for checkpoints (the private key never enters the database).

    Example:

        insightlog keys init
    """


@keys.command("init")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="Private key file [default: --key / INSIGHTLOG_KEY / insightlog-keys/provider.key].")
@click.option("--role", type=click.Choice(["provider", "witness"]), default="provider", show_default=True)
@click.pass_obj
def keys_init(obj: Context, out: Path | None, role: str) -> None:
    """Create an Ed25519 key pair: PATH (private, mode 600) and PATH.pub.

    A witness (the governance chair, an external auditor) makes their own key with --role witness
    and --out, and co-signs with 'insightlog checkpoint cosign --key THEIR_KEY'.

    Example:

        insightlog keys init --role witness --out chair.key
    """
    from insightlog.proof.keys import create_key_files
    from insightlog.application.proofs import key_path

    path = out or key_path(obj.key)
    public = path.with_name(path.name + ".pub")
    if path.exists() or public.exists():
        raise click.ClickException(f"{path} or {public} exists; keys are never overwritten")
    info = run(create_key_files, path, public, _passphrase())  # makes missing directories 0700
    output.line(f"{role} key {info.key_id[:16]}… written: private {path} (keep it off the database server), public {public}")


@click.group(invoke_without_command=True)
@click.option("--tsa", "tsa_url", metavar="URL", help="Also get an RFC 3161 timestamp token from this timestamping authority.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def checkpoint(ctx: click.Context, tsa_url: str | None, as_json: bool) -> None:
    """Sign the tree head (size, root hash, time) with the provider's key and store it.

    The checkpoint is stored in the ledger and appended to the checkpoint file kept outside the
    database (--checkpoint-file / INSIGHTLOG_CHECKPOINT_FILE). Commands that write take one
    automatically when the key file exists.

    Example:

        insightlog checkpoint --tsa http://timestamp.example/tsr
    """
    if ctx.invoked_subcommand is not None:
        return
    from insightlog.application.proofs import checkpoint_file, key_path, take_checkpoint

    obj: Context = ctx.obj
    path = key_path(obj.key)
    if not path.exists():
        raise click.ClickException(f"no signing key at {path}; create one with 'insightlog keys init'")
    signed, new = run(take_checkpoint, obj.ledger, path, outside_file=checkpoint_file(obj.checkpoint_file), tsa_url=tsa_url, passphrase=_passphrase())
    if as_json:
        output.emit_json({**signed.to_dict(), "new": new})
        return
    cp = signed.checkpoint
    state = "signed" if new else "already signed (nothing appended since)"
    output.line(f"checkpoint {cp.size} events, root {cp.root_hash.hex()}, {cp.timestamp.strftime('%Y-%m-%dT%H:%M:%SZ')}: {state}")
    if signed.tsa_token:
        output.line(f"timestamp token from {tsa_url} stored")


@checkpoint.command("cosign")
@click.option("--size", type=int, help="The checkpoint to co-sign (default: the latest).")
@click.option("--role", default="witness", show_default=True)
@click.pass_obj
def checkpoint_cosign(obj: Context, size: int | None, role: str) -> None:
    """Co-sign a checkpoint as a witness, after checking it against the stored log.

    Example:

        insightlog --key chair.key checkpoint cosign
    """
    from insightlog.application.proofs import checkpoint_file, cosign_checkpoint, key_path

    path = key_path(obj.key)
    signed = run(cosign_checkpoint, obj.ledger, path, size=size, role=role, passphrase=_passphrase())
    from insightlog.application.proofs import append_outside

    run(append_outside, checkpoint_file(obj.checkpoint_file), signed)
    output.line(f"checkpoint {signed.checkpoint.size} co-signed by {role} key {signed.signatures[-1].key_id[:16]}…")


@click.command()
@click.argument("event_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def prove(obj: Context, event_id: str, as_json: bool) -> None:
    """Print an inclusion proof of one event against the latest checkpoint.

    Example:

        insightlog prove HHC-046 --json
    """
    from insightlog.application.proofs import prove as make_proof

    proof = run(make_proof, obj.ledger, event_id)
    if as_json:
        output.emit_json(proof)
        return
    for key, value in proof.items():
        if key == "audit_path":
            output.line(f"audit_path ({len(value)} hashes):")
            for h in value:
                output.line(f"  {h}")
        else:
            output.line(f"{key}: {value}")


@click.command()
@click.option("--checkpoint", "outside", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True, help="A checkpoint file held outside the store (JSON Lines); repeatable.")
@click.option("--trusted-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True, help="The provider's public key (PEM), from outside the store: every provider signature must be by one; repeatable.")
@click.option("--trusted-witness", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True, help="A witness's public key (PEM): every witness signature must be by one; repeatable.")
@click.option("--tsa-ca", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="The TSA's CA certificate, to check timestamp tokens chain to it.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def verify(obj: Context, outside: tuple[Path, ...], trusted_key: tuple[Path, ...], trusted_witness: tuple[Path, ...], tsa_ca: Path | None, as_json: bool) -> None:
    """Recompute the Merkle tree from the stored events and check every commitment against it.

    Checks each event against the leaf committed when it was appended, the ledger head, every
    stored checkpoint (root, signatures, timestamp tokens, consistency between them), and any
    checkpoint file held outside the store. Exits non-zero naming the first bad position.

    Example:

        insightlog verify --checkpoint insightlog-checkpoints.jsonl
    """
    from insightlog.proof.keys import key_id, load_public_key
    from insightlog.application.proofs import load_outside, verify as run_verify

    outside_checkpoints = [cp for path in outside for cp in run(load_outside, path)]
    trusted = {key_id(public): public for public in (run(load_public_key, path) for path in trusted_key)}
    witnesses = {key_id(public): public for public in (run(load_public_key, path) for path in trusted_witness)}
    report = run(run_verify, obj.ledger, outside=outside_checkpoints, trusted_keys=trusted, trusted_witnesses=witnesses, tsa_ca_pem=tsa_ca.read_bytes() if tsa_ca else None)
    if as_json:
        output.emit_json(report.as_dict())
    else:
        _render_verify(report)
    if not report.ok:
        raise SystemExit(1)


@click.command()
@click.option("--service", required=True, metavar="NAME")
@click.option("--theme", metavar="THEME", help="Only this theme, its sub-themes and their amendments.")
@click.option("--as-of", metavar="TIME", help="The ledger as it stood then (RFC 3339 or a date); default now.")
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--tsa-ca", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="The TSA's CA certificate, shipped in the pack.")
@click.pass_obj
def pack(obj: Context, service: str, theme: str | None, as_of: str | None, out: Path, tsa_ca: Path | None) -> None:
    """Make an evidence pack an inspector can check offline with nothing but the pack.

    It holds the selected events, their inclusion proofs, consistency proofs between the
    checkpoints, the signed checkpoints and timestamp tokens, the public keys, the analysis as of
    that moment and a plain-language README (with OpenSSL commands).

    Example:

        insightlog pack --service "Harbour Home Care" --theme safeguarding --as-of 2026-03-31 -o pack.zip
    """
    from insightlog.cli.main import parse_as_of
    from insightlog.application.proofs import key_path, make_pack

    if out.exists():
        raise click.ClickException(f"{out} exists; a pack is never overwritten")
    when = parse_as_of(as_of)
    summary = run(
        make_pack,
        obj.ledger,
        out,
        service=service,
        as_of=when,
        theme=theme,
        signing_key=key_path(obj.key),
        tsa_ca_pem=tsa_ca.read_bytes() if tsa_ca else None,
        passphrase=_passphrase(),
    )
    flagged = f", {summary.backfilled} back-filled (flagged)" if summary.backfilled else ""
    output.line(f"pack {out}: {summary.events} events{flagged}, proven against checkpoint {summary.checkpoint_size}; {summary.files} files")


@click.command("verify-pack")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trusted-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True, help="The provider's public key (PEM), as published: every provider signature in the pack must be by one; repeatable.")
@click.option("--trusted-witness", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True, help="A witness's public key (PEM): every witness signature in the pack must be by one; repeatable.")
@click.option("--json", "as_json", is_flag=True)
def verify_pack(path: Path, trusted_key: tuple[Path, ...], trusted_witness: tuple[Path, ...], as_json: bool) -> None:
    """Check an evidence pack using only the pack: no database, no network.

    With --trusted-key (the provider's published public key) the pack must also be signed by
    that key, not only by the keys inside it.

    Example:

        insightlog verify-pack pack.zip --trusted-key provider.key.pub
    """
    from insightlog.proof.keys import load_public_key
    from insightlog.proof.pack import TrustedKeys
    from insightlog.proof.pack import verify_pack as check

    trusted = TrustedKeys.of([run(load_public_key, p) for p in trusted_key], [run(load_public_key, p) for p in trusted_witness])
    report = check(path, trusted)
    if as_json:
        output.emit_json(
            {
                "ok": report.ok,
                "origin": report.origin,
                "latest_size": report.latest_size,
                "latest_root_hash": report.latest_root_hash,
                "key_ids": report.key_ids,
                "checks": [{"subject": c.subject, "ok": c.ok, "detail": c.detail} for c in report.checks],
                "notes": report.notes,
            }
        )
    else:
        for c in report.checks:
            output.line(f"{'ok  ' if c.ok else 'FAIL'} {c.subject}{': ' + c.detail if c.detail else ''}")
        for note in report.notes:
            output.line(f"note: {note}")
        output.line(f"{'OK' if report.ok else 'FAILED'}: {len(report.checks)} checks, {len(report.failures)} failed; log {report.origin}, size {report.latest_size}")
        for kid, role in report.key_ids.items():
            output.line(f"{role} key {kid}: compare with the key id the provider published")
    if not report.ok:
        raise SystemExit(1)


def _render_verify(report: Any) -> None:
    if report.ok:
        output.line(f"OK: {report.events} events verified; the stored history matches everything committed.")
    else:
        output.line(f"FAILED: the stored history no longer matches what was committed, from position {report.first_bad_position}.")
        for f in report.findings:
            where = f"position {f.position}: " if f.position is not None else ""
            output.line(f"  - {where}{f.message}")
    output.line(
        f"{report.checkpoints} stored checkpoint(s), {report.outside_checkpoints} from outside; "
        f"{report.signatures_checked} signature(s) and {report.tokens_checked} timestamp token(s) checked"
    )
    if report.latest_checkpoint_size is None:
        output.line("No checkpoint yet: nothing is signed; run 'insightlog keys init' and 'insightlog checkpoint'.")
    else:
        output.line(f"{report.after_latest_checkpoint} event(s) lie after the newest checkpoint (size {report.latest_checkpoint_size}).")
    for note in report.notes:
        output.line(f"  {note}")


def register(group: click.Group) -> None:
    for command in (keys, checkpoint, prove, verify, pack, verify_pack):
        group.add_command(command)
