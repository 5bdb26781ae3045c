"""Proof commands: keys, checkpoints, inclusion proofs, verification."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from insightlog.cli import output
from insightlog.cli.basis import basis_option, chosen_basis
from insightlog.cli.context import Context, parse_as_of


@click.group()
def keys() -> None:
    """Signing keys for checkpoints (the private key never enters the database).

    Example:

        \b
        insightlog keys init
    """


@keys.command("init")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Private key file [default: --key / INSIGHTLOG_KEY / insightlog-keys/provider.key].",
)
@click.option("--role", type=click.Choice(["provider", "witness"]), default="provider", show_default=True)
@click.pass_obj
def keys_init(obj: Context, out: Path | None, role: str) -> None:
    """Create an Ed25519 key pair: PATH (private, mode 600) and PATH.pub.

    A witness (the governance chair, an external auditor) makes their own key with --role witness
    and --out, and co-signs with 'insightlog checkpoint cosign --key THEIR_KEY'.

    Example:

        \b
        insightlog keys init --role witness --out chair.key
    """
    from insightlog.proof.keys import create_key_files

    path = out or obj.config.key_path
    public = path.with_name(path.name + ".pub")
    if path.exists() or public.exists():
        raise click.ClickException(f"{path} or {public} exists; keys are never overwritten")
    info = create_key_files(path, public, obj.config.key_passphrase)  # makes missing directories 0700
    output.line(
        f"{role} key {info.key_id[:16]}… written: private {path} (keep it off the database server), public {public}"
    )


@click.group(invoke_without_command=True)
@click.option(
    "--tsa", "tsa_url", metavar="URL", help="Also get an RFC 3161 timestamp token from this timestamping authority."
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def checkpoint(ctx: click.Context, tsa_url: str | None, as_json: bool) -> None:
    """Sign the tree head (size, root hash, time) with the provider's key and store it.

    The checkpoint is stored in the ledger and appended to the checkpoint file kept outside the
    database (--checkpoint-file / INSIGHTLOG_CHECKPOINT_FILE). Commands that write take one
    automatically when the key file exists.

    Example:

        \b
        insightlog checkpoint --tsa http://timestamp.example/tsr
    """
    if ctx.invoked_subcommand is not None:
        return
    obj: Context = ctx.obj
    signed, new = obj.app.checkpoint(tsa_url=tsa_url)
    if as_json:
        output.emit_json({**signed.to_dict(), "new": new})
        return
    cp = signed.checkpoint
    state = "signed" if new else "already signed (nothing appended since)"
    output.line(
        f"checkpoint {cp.size} events, root {cp.root_hash.hex()}, {cp.timestamp.strftime('%Y-%m-%dT%H:%M:%SZ')}: {state}"
    )
    output.line(
        f"outside checkpoint file: {obj.app.outside_file()} (keep a copy where the database's administrators cannot rewrite it)"
    )
    if signed.tsa_token:
        output.line(f"timestamp token from {tsa_url} stored")


@checkpoint.command("cosign")
@click.option("--size", type=int, help="The checkpoint to co-sign (default: the latest).")
@click.option("--role", default="witness", show_default=True)
@click.pass_obj
def checkpoint_cosign(obj: Context, size: int | None, role: str) -> None:
    """Co-sign a checkpoint as a witness, after checking it against the stored log.

    Example:

        \b
        insightlog --key chair.key checkpoint cosign
    """
    signed = obj.app.cosign(size=size, role=role)
    output.line(f"checkpoint {signed.checkpoint.size} co-signed by {role} key {signed.signatures[-1].key_id[:16]}…")


@click.command()
@click.argument("event_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def prove(obj: Context, event_id: str, as_json: bool) -> None:
    """Print an inclusion proof of one event against the latest checkpoint.

    Example:

        \b
        insightlog prove HHC-046 --json
    """
    proof = obj.app.prove(event_id)
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
@click.option(
    "--checkpoint",
    "outside",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="A checkpoint file held outside the store (JSON Lines); repeatable.",
)
@click.option(
    "--trusted-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="The provider's public key (PEM), from outside the store: every provider signature must be by one; repeatable.",
)
@click.option(
    "--trusted-witness",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="A witness's public key (PEM): every witness signature must be by one; repeatable.",
)
@click.option(
    "--tsa-ca",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The TSA's CA certificate, to check timestamp tokens chain to it.",
)
@click.option(
    "--head",
    "head",
    metavar="SIZE[:ROOT]",
    help="The head this verifier saw last (as verify printed it): the store must still hold it.",
)
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Also recompute the read models from the events and compare them (as `projections verify`).",
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def verify(
    obj: Context,
    outside: tuple[Path, ...],
    trusted_key: tuple[Path, ...],
    trusted_witness: tuple[Path, ...],
    tsa_ca: Path | None,
    head: str | None,
    everything: bool,
    as_json: bool,
) -> None:
    """Check every stored row and recompute the Merkle tree; check every commitment against it.

    Checks each row of the store as the ledger writes it (every entry in its service's stream, in
    order, against the key committed when it was appended; the head; every snapshot against the
    events it summarises; every checkpoint record: root, signatures, timestamp tokens, consistency
    between them), and any checkpoint file held outside the store, which must still be stored as
    it was. With --all, also recomputes the read models from the events and compares them row by
    row. Exits non-zero naming the first bad position (or the checkpoint, or the row).

    Without --checkpoint or --head nothing outside the store anchors it: removing the newest
    events together with their checkpoints and snapshots cannot be seen. Pass the last head it
    printed with --head SIZE:ROOT next time.

    Example:

        \b
        insightlog verify --checkpoint insightlog-checkpoints/ORIGIN.jsonl --trusted-key provider.key.pub
    """
    report = obj.app.verify(
        outside_files=outside,
        trusted_key_files=trusted_key,
        trusted_witness_files=trusted_witness,
        tsa_ca=tsa_ca,
        expected_head=head,
    )
    # --all: the read models too (ledger and checkpoints are above), after the ledger's checks.
    models = obj.app.verify_read_models() if everything else None
    if as_json:
        output.emit_json({**report.as_dict(), **({"read_models": models.as_dict()} if models is not None else {})})
    else:
        _render_verify(report)
        if models is not None:
            from insightlog.cli.readmodels import render_read_model_check

            render_read_model_check(models)
    if not report.ok or (models is not None and not models.ok):
        raise SystemExit(1)


@click.command()
@click.option("--service", required=True, metavar="NAME")
@click.option("--theme", metavar="THEME", help="Only this theme, its sub-themes and their amendments.")
@click.option("--as-of", metavar="TIME", help="The ledger as it stood then (RFC 3339 or a date); default now.")
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--tsa-ca",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The TSA's CA certificate, shipped in the pack (and, with --basis proven, the CA the tokens must chain to).",
)
@basis_option
@click.pass_obj
def pack(
    obj: Context, service: str, theme: str | None, as_of: str | None, out: Path, tsa_ca: Path | None, basis: str
) -> None:
    """Make an evidence pack an inspector can check offline with nothing but the pack.

    It holds the selected events, their inclusion proofs, consistency proofs between the
    checkpoints, the signed checkpoints and timestamp tokens, the public keys, the analysis as of
    that moment and a plain-language README (with OpenSSL commands). The README names the basis
    (whose clock decided what was recorded by --as-of) and marks every entry withdrawn by then.

    Example:

        \b
        insightlog pack --service "Harbour Home Care" --theme safeguarding --as-of 2026-03-31 -o pack.zip
    """
    chosen = chosen_basis(obj, basis, tsa_ca)
    summary = obj.app.pack(out, service=service, as_of=parse_as_of(as_of), theme=theme, tsa_ca=tsa_ca, basis=chosen)
    flagged = f", {summary.backfilled} back-filled (flagged)" if summary.backfilled else ""
    flagged += f", {summary.withdrawn} withdrawn (marked)" if summary.withdrawn else ""
    output.line(
        f"pack {out}: {summary.events} events{flagged}, proven against checkpoint {summary.checkpoint_size}; "
        f"{summary.files} files; basis {summary.basis}"
    )


@click.command("verify-pack")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--trusted-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="The provider's public key (PEM), as published: every provider signature in the pack must be by one; repeatable.",
)
@click.option(
    "--trusted-witness",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="A witness's public key (PEM): every witness signature in the pack must be by one; repeatable.",
)
@click.option("--json", "as_json", is_flag=True)
def verify_pack(path: Path, trusted_key: tuple[Path, ...], trusted_witness: tuple[Path, ...], as_json: bool) -> None:
    """Check an evidence pack using only the pack: no database, no network.

    With --trusted-key (the provider's published public key) the pack must also be signed by
    that key, not only by the keys inside it.

    Example:

        \b
        insightlog verify-pack pack.zip --trusted-key provider.key.pub
    """
    from insightlog.proof.keys import load_public_key
    from insightlog.proof.pack import TrustedKeys
    from insightlog.proof.pack import verify_pack as check

    trusted = TrustedKeys.of([load_public_key(p) for p in trusted_key], [load_public_key(p) for p in trusted_witness])
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
        output.line(
            f"{'OK' if report.ok else 'FAILED'}: {len(report.checks)} checks, {len(report.failures)} failed; log {report.origin}, size {report.latest_size}"
        )
        for kid, role in report.key_ids.items():
            output.line(f"{role} key {kid}: compare with the key id the provider published")
    if not report.ok:
        raise SystemExit(1)


def _render_verify(report: Any) -> None:
    if report.ok:
        output.line(f"OK: {report.events} events verified; the stored history matches everything committed.")
    elif report.first_bad_position is not None:
        output.line(
            f"FAILED: the stored history no longer matches what was committed, from position {report.first_bad_position}."
        )
    else:
        output.line(
            f"FAILED: {report.findings[0].message}"
            if report.findings
            else "FAILED: a commitment does not match the stored history."
        )
    if not report.ok:
        for f in report.findings:
            where = f"position {f.position}: " if f.position is not None else ""
            output.line(f"  - {where}{f.message}")
    output.line(
        f"{report.rows_checked} stored row(s) and {report.snapshots_checked} snapshot(s) checked; "
        f"{report.checkpoints} stored checkpoint(s), {report.outside_checkpoints} from outside; "
        f"{report.signatures_checked} signature(s) and {report.tokens_checked} timestamp token(s) checked"
    )
    after = report.after_latest_checkpoint
    if report.latest_checkpoint_size is None:
        output.line("No checkpoint yet: nothing is signed; run 'insightlog keys init' and 'insightlog checkpoint'.")
    elif after is not None and after < 0:
        output.line(
            f"The newest checkpoint covers {report.latest_checkpoint_size} events, more than the {report.events} stored."
        )
    else:
        output.line(f"{after} event(s) lie after the newest checkpoint (size {report.latest_checkpoint_size}).")
    if report.anchored_size is not None:
        output.line(
            f"{report.not_yet_anchored} event(s) after the newest outside checkpoint (size {report.anchored_size}) are not yet anchored."
        )
    else:
        output.line(
            f"{report.not_yet_anchored} event(s) are not yet anchored: no outside checkpoint covers any of them."
        )
    if report.ok and report.root_hash is not None:
        output.line(
            f"Head: {report.events}:{report.root_hash} (keep it; next time: verify --head {report.events}:{report.root_hash})"
        )
    for note in report.notes:
        output.line(f"  {note}")


def register(group: click.Group) -> None:
    for command in (keys, checkpoint, prove, verify, pack, verify_pack):
        group.add_command(command)
