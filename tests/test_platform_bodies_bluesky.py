"""Real Bluesky answers (tests/data/platforms/bluesky_*.json, each with its source): the fake PDS
answers in the same shapes and words, and the adapter reads each of them, served through the
fake. The Bluesky part of tests/test_platform_bodies.py, in a file of its own.

In each file, keys starting with ``_`` describe the answer (``_source``, ``_status``,
``_headers``, ``_text``: what was sent); the others are the body.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_fixtures import bluesky_adapter, png
from fakes import FakeBluesky
from fakes.server import Fault

from adapters.base import MediaItem, OutgoingPart
from adapters.errors import ContentRejected, CredentialsInvalid, RateLimited

BODIES = Path(__file__).parent / "data" / "platforms"
POST = "app.bsky.feed.post"
POST_URI = re.compile(r"at://did:plc:[a-z0-9]{24}/app\.bsky\.feed\.post/[2-7a-z]{13}")
RECORD_CID = re.compile(r"bafyrei[a-z2-7]{52}")  # CIDv1, dag-cbor, sha-256, base32
BLOB_CID = re.compile(r"bafkrei[a-z2-7]{52}")  # CIDv1, raw, sha-256, base32


class Documented:
    def __init__(self, name: str) -> None:
        self.file: dict[str, Any] = json.loads((BODIES / name).read_text(encoding="utf-8"))
        assert self.file["_source"]
        self.body = {k: v for k, v in self.file.items() if not k.startswith("_")}
        self.status: int = self.file.get("_status", 200)
        self.headers: dict[str, str] = self.file.get("_headers", {})

    @property
    def text(self) -> str:
        return str(self.file["_text"]["repeat"] * self.file["_text"]["times"])

    def served(self, fake: FakeBluesky, path: str) -> Fault:
        """The fake answers the next request to ``path`` with this answer, as it is."""
        return fake.inject(
            Fault(status=self.status, body=self.body, headers=self.headers, path=path)
        )


def _call(fake: FakeBluesky, nsid: str, token: str | None = None, **request: Any) -> httpx.Response:
    """One XRPC call, plain HTTP: what the PDS answers, not what an SDK makes of it."""
    method = "GET" if nsid.endswith(("getSession", "getRecord")) else "POST"
    headers = dict(request.pop("headers", {}))
    if token:
        headers["authorization"] = f"Bearer {token}"
    return httpx.request(method, f"{fake.url}/xrpc/{nsid}", headers=headers, timeout=5, **request)


def _session(fake: FakeBluesky) -> dict[str, Any]:
    answer = _call(
        fake,
        "com.atproto.server.createSession",
        json={"identifier": fake.handle, "password": fake.app_password},
    )
    assert answer.status_code == 200, answer.text
    session: dict[str, Any] = answer.json()
    return session


def _post(text: str) -> dict[str, str]:
    return {"$type": POST, "text": text, "createdAt": "2026-11-25T09:00:00.000Z"}


# --- createRecord, uploadBlob ------------------------------------------------------------------


def test_create_record_answers_as_the_docs_show(fake_bluesky: FakeBluesky) -> None:
    documented = Documented("bluesky_create_record.json")
    session = _session(fake_bluesky)
    answer = _call(
        fake_bluesky,
        "com.atproto.repo.createRecord",
        session["accessJwt"],
        json={"repo": session["did"], "collection": POST, "record": _post("Hello")},
    )
    assert answer.status_code == 200
    ours = answer.json()
    assert set(documented.body) <= set(ours)
    assert POST_URI.fullmatch(documented.body["uri"]) and POST_URI.fullmatch(ours["uri"])
    assert RECORD_CID.fullmatch(documented.body["cid"]) and RECORD_CID.fullmatch(ours["cid"])


def test_upload_blob_answers_as_the_docs_show(fake_bluesky: FakeBluesky) -> None:
    documented = Documented("bluesky_upload_blob.json").body
    image = png(30, 20)
    answer = _call(
        fake_bluesky,
        "com.atproto.repo.uploadBlob",
        _session(fake_bluesky)["accessJwt"],
        content=image,
        headers={"content-type": "image/png"},
    )
    ours = answer.json()
    assert (answer.status_code, set(ours), set(ours["blob"])) == (
        200,
        set(documented),
        set(documented["blob"]),
    )
    assert ours["blob"]["$type"] == documented["blob"]["$type"] == "blob"
    assert BLOB_CID.fullmatch(documented["blob"]["ref"]["$link"])
    assert BLOB_CID.fullmatch(ours["blob"]["ref"]["$link"])  # a blob's CID is raw, not dag-cbor
    assert (ours["blob"]["mimeType"], ours["blob"]["size"]) == ("image/png", len(image))


def test_the_adapter_reads_the_documented_blob(fake_bluesky: FakeBluesky) -> None:
    documented = Documented("bluesky_upload_blob.json")
    blob = documented.body["blob"]
    fake_bluesky.blobs[blob["ref"]["$link"]] = (blob["mimeType"], b"")  # the PDS holds it
    documented.served(fake_bluesky, "uploadBlob")
    item = MediaItem(mime="image/png", alt="Orange card", data=png(1280, 760))
    published = bluesky_adapter(fake_bluesky).publish(OutgoingPart("Card", "k", media=(item,)))
    assert published.media_ids == (blob["ref"]["$link"],)
    [image] = fake_bluesky.posted[0].value["embed"]["images"]
    assert image["image"] == blob


# --- refusals ---------------------------------------------------------------------------------


def test_the_fake_refuses_3000_bytes_of_text_as_the_pds_does(fake_bluesky: FakeBluesky) -> None:
    documented = Documented("bluesky_invalid_request_text_too_long.json")
    session = _session(fake_bluesky)
    write = {"$type": "com.atproto.repo.applyWrites#create", "collection": POST}
    answer = _call(
        fake_bluesky,
        "com.atproto.repo.applyWrites",
        session["accessJwt"],
        json={"repo": session["did"], "writes": [{**write, "value": _post(documented.text)}]},
    )
    assert (answer.status_code, answer.json()) == (documented.status, documented.body)
    single = _call(
        fake_bluesky,
        "com.atproto.repo.createRecord",
        session["accessJwt"],
        json={"repo": session["did"], "collection": POST, "record": _post(documented.text)},
    )
    assert single.status_code == 400
    assert single.json()["message"].endswith("(maximum 3000, got 3250) at $.record.text")
    assert fake_bluesky.posted == []


def test_the_adapter_reports_the_pds_refusal_in_its_words(fake_bluesky: FakeBluesky) -> None:
    documented = Documented("bluesky_invalid_request_text_too_long.json")
    documented.served(fake_bluesky, "applyWrites")
    with pytest.raises(ContentRejected) as raised:
        bluesky_adapter(fake_bluesky).publish(OutgoingPart("Short enough for us", "k"))
    assert documented.body["message"] in str(raised.value)


def test_an_expired_token_is_answered_and_renewed_as_the_pds_does(
    fake_bluesky: FakeBluesky,
) -> None:
    documented = Documented("bluesky_expired_token.json")
    token = _session(fake_bluesky)["accessJwt"]
    fake_bluesky.expire_tokens()
    answer = _call(fake_bluesky, "com.atproto.server.getSession", token)
    assert (answer.status_code, answer.json()) == (documented.status, documented.body)

    adapter = bluesky_adapter(fake_bluesky)
    adapter.verify()
    documented.served(fake_bluesky, "applyWrites")
    adapter.publish(OutgoingPart("Once renewed", "k"))
    assert (fake_bluesky.refreshes, [p.value["text"] for p in fake_bluesky.posted]) == (
        1,
        ["Once renewed"],
    )


def test_a_wrong_app_password_is_answered_as_the_pds_does(fake_bluesky: FakeBluesky) -> None:
    documented = Documented("bluesky_authentication_required.json")
    answer = _call(
        fake_bluesky,
        "com.atproto.server.createSession",
        json={"identifier": fake_bluesky.handle, "password": "wxyz-wxyz-wxyz-wxyz"},
    )
    assert (answer.status_code, answer.json()) == (documented.status, documented.body)
    adapter = bluesky_adapter(fake_bluesky, credentials={"app_password": "wxyz-wxyz-wxyz-wxyz"})
    with pytest.raises(CredentialsInvalid, match="Invalid identifier or password"):
        adapter.verify()


def test_the_login_limit_is_answered_as_the_pds_does() -> None:
    documented = Documented("bluesky_rate_limit_exceeded.json")
    reset = dt.datetime.fromtimestamp(int(documented.headers["RateLimit-Reset"]), dt.UTC)
    retry = dt.timedelta(seconds=int(documented.headers["Retry-After"]))
    with FakeBluesky(clock=lambda: reset - retry) as fake:
        first = reset - dt.timedelta(minutes=5)  # 30 logins in the window that ends at reset
        fake.logins_by_identifier[fake.handle] = [first] + [reset - retry] * 29
        answer = _call(
            fake,
            "com.atproto.server.createSession",
            json={"identifier": fake.handle, "password": fake.app_password},
        )
    assert (answer.status_code, answer.json()) == (documented.status, documented.body)
    assert {name: answer.headers.get(name) for name in documented.headers} == documented.headers


def test_the_adapter_reads_the_reset_of_the_documented_429(fake_bluesky: FakeBluesky) -> None:
    documented = Documented("bluesky_rate_limit_exceeded.json")
    documented.served(fake_bluesky, "createSession")
    with pytest.raises(RateLimited) as raised:
        bluesky_adapter(fake_bluesky).verify()
    reset = int(documented.headers["RateLimit-Reset"])
    assert raised.value.reset_at == dt.datetime.fromtimestamp(reset, dt.UTC)
