"""RFC 3161 trusted timestamps for checkpoints.

``request_timestamp(url, data)`` asks a timestamping authority (TSA) to timestamp ``data`` (a
checkpoint's signed body): it sends a TimeStampReq (SHA-256 message imprint of ``data``, a random
64-bit nonce, certReq true) as ``application/timestamp-query`` over HTTP POST, checks that the
TimeStampResp is granted, that the token's TSTInfo carries our imprint and nonce and that the
token's signature verifies, and returns the token: the DER-encoded CMS ContentInfo (SignedData
over TSTInfo) that is stored with the checkpoint.

``verify_token(token, data, ca_cert_pem)`` checks a stored token on its own: imprint, the CMS
signature over the signed attributes with the TSA certificate embedded in the token, the ESS
signing-certificate binding, the TSA certificate's critical ``timeStamping`` extended key usage
and validity at the token's genTime, and (when a CA certificate is given) that the TSA certificate
chains to it. The equivalent OpenSSL command is::

    openssl ts -verify -data body.txt -in token.der -token_in -CAfile tsa-ca.pem

Parsing and encoding use ``asn1crypto``; signature checks use ``cryptography``.
"""

from __future__ import annotations

import hashlib
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from insightlog.errors import InsightlogError

CONTENT_TYPE_QUERY = "application/timestamp-query"
CONTENT_TYPE_REPLY = "application/timestamp-reply"
MAX_RESPONSE_BYTES = 1 << 20

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_HASHLIB = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}


class _TimeStampResp(core.Sequence):  # type: ignore[misc]  # asn1crypto ships no type information
    """RFC 3161 TimeStampResp; asn1crypto's own marks the token required, but it is optional."""

    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


class TimestampError(InsightlogError):
    """Raised when a timestamp cannot be obtained from the authority."""


class TimestampVerificationError(TimestampError):
    """Raised when a timestamp token or response does not verify."""


@dataclass(frozen=True, slots=True)
class TimestampRequest:
    """A DER TimeStampReq and what its response must echo."""

    der: bytes
    digest: bytes
    nonce: int


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What a verified token says: when, which serial, under which policy, by which TSA cert."""

    gen_time: datetime
    serial_number: int
    policy: str
    hash_algorithm: str
    message_digest: bytes
    nonce: int | None
    tsa_subject: str
    tsa_certificate_sha256: str


@dataclass(frozen=True, slots=True)
class Timestamp:
    """A token obtained from a TSA (DER ContentInfo, what is stored) and its checked contents."""

    token: bytes
    info: TokenInfo


def build_request(data: bytes, nonce: int | None = None, *, cert_req: bool = True) -> TimestampRequest:
    """A TimeStampReq for SHA-256(data) with a nonce (random 64-bit unless given)."""
    digest = hashlib.sha256(data).digest()
    if nonce is None:
        nonce = secrets.randbits(64) | 1  # never zero
    request = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": digest,
            },
            "nonce": nonce,
            "cert_req": cert_req,
        }
    )
    return TimestampRequest(request.dump(), digest, nonce)


def post_request(url: str, request_der: bytes, *, timeout: float = 10.0) -> bytes:
    """POST a DER TimeStampReq to ``url`` and return the DER TimeStampResp body."""
    http_request = urllib.request.Request(
        url,
        data=request_der,
        method="POST",
        headers={"Content-Type": CONTENT_TYPE_QUERY, "Accept": CONTENT_TYPE_REPLY},
    )
    try:
        with urllib.request.urlopen(http_request, timeout=timeout) as response:
            body: bytes = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise TimestampError(f"timestamping authority {url} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TimestampError(f"cannot reach timestamping authority {url}: {reason}") from None
    if len(body) > MAX_RESPONSE_BYTES:
        raise TimestampError(f"timestamping authority {url} sent an oversized response")
    return body


def token_from_response(response_der: bytes) -> bytes:
    """The token (DER ContentInfo) inside a granted TimeStampResp."""
    try:
        response = _TimeStampResp.load(response_der, strict=True)
        status = response["status"]["status"].native
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampVerificationError(f"not a TimeStampResp: {exc}") from None
    if status not in ("granted", "granted_with_mods"):
        text = response["status"]["status_string"].native
        detail = f" ({'; '.join(text)})" if text else ""
        fail = response["status"]["fail_info"]
        if fail.native:
            detail += f" [failure: {', '.join(sorted(fail.native))}]"
        raise TimestampError(f"timestamp request not granted: {status}{detail}")
    token = response["time_stamp_token"]
    if isinstance(token, core.Void):
        raise TimestampVerificationError("granted TimeStampResp carries no token")
    der: bytes = token.dump()
    return der


def response_from_token(token_der: bytes) -> bytes:
    """Wrap a token in a granted TimeStampResp (the ``.tsr`` form ``openssl ts`` reads by default)."""
    token = cms.ContentInfo.load(token_der)
    der: bytes = _TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump()
    return der


def check_response(response_der: bytes, request: TimestampRequest) -> bytes:
    """Check a TimeStampResp against our request (granted, imprint, nonce); return its token."""
    token = token_from_response(response_der)
    tst_info = _tst_info(token)
    imprint = tst_info["message_imprint"]
    if imprint["hash_algorithm"]["algorithm"].native != "sha256":
        raise TimestampVerificationError("token's message imprint is not SHA-256")
    if imprint["hashed_message"].native != request.digest:
        raise TimestampVerificationError("token's message imprint is not the digest we sent")
    if tst_info["nonce"].native != request.nonce:
        raise TimestampVerificationError("token's nonce is not the nonce we sent")
    return token


def request_timestamp(url: str, data: bytes, *, timeout: float = 10.0) -> Timestamp:
    """Obtain, check and return an RFC 3161 token over SHA-256(data) from the TSA at ``url``."""
    request = build_request(data)
    response = post_request(url, request.der, timeout=timeout)
    token = check_response(response, request)
    return Timestamp(token, verify_token(token, data))


def _content_info(token_der: bytes) -> cms.ContentInfo:
    try:
        info = cms.ContentInfo.load(token_der, strict=True)
        content_type = info["content_type"].native
    except (ValueError, TypeError) as exc:
        raise TimestampVerificationError(f"token is not a DER CMS ContentInfo: {exc}") from None
    if content_type != "signed_data":
        raise TimestampVerificationError(f"token content is {content_type}, not signed data")
    return info


def _tst_info(token_der: bytes) -> tsp.TSTInfo:
    signed_data = _content_info(token_der)["content"]
    return _parse_tst_info(signed_data)


def _parse_tst_info(signed_data: cms.SignedData) -> tsp.TSTInfo:
    try:
        encap = signed_data["encap_content_info"]
        if encap["content_type"].native != "tst_info":
            raise TimestampVerificationError("token does not encapsulate a TSTInfo")
        tst_info = encap["content"].parsed
        _ = tst_info.native  # force a full parse so malformed contents fail here
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampVerificationError(f"token's TSTInfo is malformed: {exc}") from None
    if not isinstance(tst_info, tsp.TSTInfo):
        raise TimestampVerificationError("token does not encapsulate a TSTInfo")
    return tst_info


def token_gen_time(token_der: bytes) -> datetime:
    """The genTime of a token, without verifying anything."""
    gen_time: datetime = _tst_info(token_der)["gen_time"].native
    return gen_time


def _embedded_certificates(signed_data: cms.SignedData) -> list[asn1_x509.Certificate]:
    certificates = signed_data["certificates"]
    if isinstance(certificates, core.Void):
        return []
    return [c.chosen for c in certificates if isinstance(c.chosen, asn1_x509.Certificate)]


def _signer_certificate(signed_data: cms.SignedData, signer: cms.SignerInfo) -> asn1_x509.Certificate:
    certificates = _embedded_certificates(signed_data)
    if not certificates:
        raise TimestampVerificationError("token carries no TSA certificate (it must be requested with certReq)")
    sid = signer["sid"]
    for cert in certificates:
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if cert.issuer == wanted["issuer"] and cert.serial_number == wanted["serial_number"].native:
                return cert
        elif sid.name == "subject_key_identifier" and cert.key_identifier == sid.chosen.native:
            return cert
    raise TimestampVerificationError("the TSA certificate named by the signer is not in the token")


def _attribute(signed_attrs: cms.CMSAttributes, name: str) -> core.Asn1Value | None:
    found = [a for a in signed_attrs if a["type"].native == name]
    if not found:
        return None
    if len(found) > 1 or len(found[0]["values"]) != 1:
        raise TimestampVerificationError(f"signed attribute {name} occurs more than once")
    return found[0]["values"][0]


def _check_signing_certificate(signed_attrs: cms.CMSAttributes, cert_der: bytes) -> None:
    v2 = _attribute(signed_attrs, "signing_certificate_v2")
    v1 = _attribute(signed_attrs, "signing_certificate")
    if v2 is not None:
        first = v2["certs"][0]
        algorithm = first["hash_algorithm"]["algorithm"].native
    elif v1 is not None:
        first = v1["certs"][0]
        algorithm = "sha1"
    else:
        raise TimestampVerificationError("token has no ESS signing-certificate attribute")
    hasher = _HASHLIB.get(algorithm)
    if hasher is None:
        raise TimestampVerificationError(f"unsupported ESS certificate hash {algorithm}")
    if hasher(cert_der).digest() != first["cert_hash"].native:
        raise TimestampVerificationError(
            "the ESS signing-certificate attribute does not name the embedded TSA certificate"
        )


def _verify_cms_signature(public_key: object, signer: cms.SignerInfo, signed_bytes: bytes, digest_name: str) -> None:
    signature = signer["signature"].native
    algorithm: algos.SignedDigestAlgorithm = signer["signature_algorithm"]
    algo = algorithm.signature_algo
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            if algo == "rsassa_pss":
                params = algorithm["parameters"]
                pss_hash = params["hash_algorithm"]["algorithm"].native
                mgf_hash = params["mask_gen_algorithm"]["parameters"]["algorithm"].native
                if pss_hash not in _HASHES or mgf_hash not in _HASHES:
                    raise TimestampVerificationError("unsupported RSA-PSS parameters")
                public_key.verify(
                    signature,
                    signed_bytes,
                    padding.PSS(
                        mgf=padding.MGF1(_HASHES[mgf_hash]()),
                        salt_length=params["salt_length"].native,
                    ),
                    _HASHES[pss_hash](),
                )
            elif algo == "rsassa_pkcs1v15":
                public_key.verify(signature, signed_bytes, padding.PKCS1v15(), _HASHES[digest_name]())
            else:
                raise TimestampVerificationError(f"RSA key with signature algorithm {algo}")
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            if algo != "ecdsa":
                raise TimestampVerificationError(f"EC key with signature algorithm {algo}")
            public_key.verify(signature, signed_bytes, ec.ECDSA(_HASHES[digest_name]()))
        elif isinstance(public_key, (Ed25519PublicKey, Ed448PublicKey)):
            public_key.verify(signature, signed_bytes)
        else:
            raise TimestampVerificationError(f"unsupported TSA key type {type(public_key).__name__}")
    except InvalidSignature:
        raise TimestampVerificationError("the token's signature does not verify") from None
    except UnsupportedAlgorithm as exc:
        raise TimestampVerificationError(f"unsupported signature algorithm: {exc}") from None


def _check_tsa_certificate(cert: x509.Certificate, at: datetime) -> None:
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        raise TimestampVerificationError("TSA certificate has no extended key usage") from None
    if not eku.critical or ExtendedKeyUsageOID.TIME_STAMPING not in eku.value:
        raise TimestampVerificationError("TSA certificate lacks the critical timeStamping extended key usage")
    _check_validity(cert, at, "TSA certificate")


def _check_validity(cert: x509.Certificate, at: datetime, what: str) -> None:
    if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
        raise TimestampVerificationError(f"{what} {cert.subject.rfc4514_string()} was not valid at {at.isoformat()}")


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _issued_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _check_chain(
    leaf: x509.Certificate,
    intermediates: list[x509.Certificate],
    anchors: list[x509.Certificate],
    at: datetime,
) -> None:
    current = leaf
    for _ in range(8):
        if current in anchors:
            return
        for anchor in anchors:
            if _issued_by(current, anchor):
                _check_validity(anchor, at, "CA certificate")
                return
        for candidate in intermediates:
            if candidate != current and _is_ca(candidate) and _issued_by(current, candidate):
                _check_validity(candidate, at, "intermediate certificate")
                current = candidate
                break
        else:
            break
    raise TimestampVerificationError(f"TSA certificate {leaf.subject.rfc4514_string()} does not chain to the given CA")


def verify_token(token_der: bytes, data: bytes, ca_cert_pem: bytes | None = None) -> TokenInfo:
    """Verify an RFC 3161 token over ``data``; return what it says or raise ``TimestampVerificationError``.

    Checks: the TSTInfo message imprint equals the hash of ``data``; the one SignerInfo has signed
    attributes whose content type is TSTInfo and whose message digest is that of the TSTInfo; the
    signature over the signed attributes verifies with the embedded TSA certificate, which the ESS
    signing-certificate attribute names; that certificate has the critical ``timeStamping``
    extended key usage and was valid at genTime; and, if ``ca_cert_pem`` (one or more PEM
    certificates) is given, it chains to one of them through the token's certificates.
    """
    try:
        return _verify_token(token_der, data, ca_cert_pem)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        # asn1crypto parses lazily: a malformed field surfaces only when it is read.
        raise TimestampVerificationError(f"token is malformed: {exc}") from None


def _verify_token(token_der: bytes, data: bytes, ca_cert_pem: bytes | None) -> TokenInfo:
    signed_data: cms.SignedData = _content_info(token_der)["content"]
    tst_info = _parse_tst_info(signed_data)

    imprint = tst_info["message_imprint"]
    imprint_algorithm = imprint["hash_algorithm"]["algorithm"].native
    if imprint_algorithm not in _HASHES:
        raise TimestampVerificationError(f"unsupported message imprint hash {imprint_algorithm}")
    if _HASHLIB[imprint_algorithm](data).digest() != imprint["hashed_message"].native:
        raise TimestampVerificationError("the token's message imprint is not the hash of the data")

    signer_infos = signed_data["signer_infos"]
    if len(signer_infos) != 1:
        raise TimestampVerificationError(f"token has {len(signer_infos)} signers, not one")
    signer: cms.SignerInfo = signer_infos[0]
    digest_name = signer["digest_algorithm"]["algorithm"].native
    if digest_name not in _HASHES:
        raise TimestampVerificationError(f"unsupported signer digest algorithm {digest_name}")
    signed_attrs = signer["signed_attrs"]
    if not signed_attrs.native:
        raise TimestampVerificationError("token's signer has no signed attributes")
    content_type = _attribute(signed_attrs, "content_type")
    if content_type is None or content_type.native != "tst_info":
        raise TimestampVerificationError("signed content-type attribute is not TSTInfo")
    message_digest = _attribute(signed_attrs, "message_digest")
    tst_der = signed_data["encap_content_info"]["content"].contents
    if message_digest is None or message_digest.native != _HASHLIB[digest_name](tst_der).digest():
        raise TimestampVerificationError("signed message-digest attribute does not match TSTInfo")

    cert_asn1 = _signer_certificate(signed_data, signer)
    cert_der = cert_asn1.dump()
    _check_signing_certificate(signed_attrs, cert_der)
    cert = x509.load_der_x509_certificate(cert_der)
    # The signature covers the DER of the signed attributes as a SET OF (tag 0x31), not as the
    # [0] IMPLICIT field they are carried in (RFC 5652 §5.4).
    attrs_der = signed_attrs.dump()
    _verify_cms_signature(cert.public_key(), signer, b"\x31" + attrs_der[1:], digest_name)

    gen_time: datetime = tst_info["gen_time"].native
    if gen_time.tzinfo is None:
        gen_time = gen_time.replace(tzinfo=UTC)
    _check_tsa_certificate(cert, gen_time)

    if ca_cert_pem is not None:
        try:
            anchors = x509.load_pem_x509_certificates(ca_cert_pem)
        except ValueError as exc:
            raise TimestampVerificationError(f"CA certificate is not PEM: {exc}") from None
        others = [x509.load_der_x509_certificate(c.dump()) for c in _embedded_certificates(signed_data)]
        _check_chain(cert, [c for c in others if c != cert], anchors, gen_time)

    return TokenInfo(
        gen_time=gen_time,
        serial_number=tst_info["serial_number"].native,
        policy=tst_info["policy"].dotted,
        hash_algorithm=imprint_algorithm,
        message_digest=imprint["hashed_message"].native,
        nonce=tst_info["nonce"].native,
        tsa_subject=cert.subject.rfc4514_string(),
        tsa_certificate_sha256=hashlib.sha256(cert_der).hexdigest(),
    )


def tsa_certificates_pem(token_der: bytes) -> bytes:
    """The certificates embedded in a token, as PEM (for ``openssl ts -verify -untrusted``)."""
    signed_data = _content_info(token_der)["content"]
    return b"".join(
        x509.load_der_x509_certificate(c.dump()).public_bytes(Encoding.PEM) for c in _embedded_certificates(signed_data)
    )
