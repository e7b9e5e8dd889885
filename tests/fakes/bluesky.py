"""A fake Bluesky PDS: sessions, blobs and records, with the PDS's answers.

Sessions are JWTs signed HS256 with a key of the fake's own; an expired access token gets the
PDS's ``400 ExpiredToken``. ``createSession`` is limited like the real one (30 per 5 minutes,
300 a day, per account, counted by the identifier logged in with; the 429 carries the reference
PDS's ``RateLimit-*`` and ``Retry-After`` headers). Post records are checked as the PDS checks
them: text of at most 3,000 bytes of UTF-8 and 300 graphemes (the lexicon's ``maxLength`` and
``maxGraphemes``, bytes first, refused with the reference PDS's words), facets inside the
text's UTF-8 bytes, images that were uploaded, replies whose root and parent exist with the
CIDs given, threadgates on their own post's record key.
Error bodies are the reference PDS's: ``{"error": name, "message": ...}``, the message defaulting
to the status's words ("Rate Limit Exceeded"); tests/data/platforms/bluesky_*.json hold real
ones, and tests/test_platform_bodies_bluesky.py compares the fake's answers with them.

Several accounts can log in (``add_account``), each with its own DID and app password; records
go to the repo of the session that writes them, and each repo is read on its own
(``getRecord``, ``listRecords`` with ``repo``, newest record key first, 50 a page by default and
100 at most, paged with ``cursor``). Record keys follow the PDS's rules: posts and threadgates
take a TID (13 characters of base32-sortable), and creating a record whose key exists fails as
the reference PDS fails today, ``500 InternalServerError`` (``duplicate_status=409``: the
``RecordAlreadyExists`` that other PDSes answer and the lexicon is gaining). ``revoke(handle)``
revokes an account's app password as Bluesky does: logins with it fail and its sessions are
refused.

The fake is an AppView too: ``app.bsky.feed.getPosts`` (no session needed, as on Bluesky's
public AppView) answers up to 25 URIs (more: the 400 of the lexicon's ``maxLength``) with a
``postView`` for each post that exists (tests/data/platforms/bluesky_get_posts.json), leaving
out the others, with the counts a test sets (``set_counts(uri, likeCount=3)``; None removes
one, as the lexicon makes every count optional). ``FakeBluesky(records_from=pds)`` is an AppView
apart from the PDS, reading that fake's posts and counts, to show which one a client asks.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import itertools
import json
import math
import re
import secrets
from dataclasses import dataclass
from typing import Any, ClassVar

from adapters.textlength import graphemes

from .server import Clock, FakeServer, Fault, Request, Response, route, utc_now

POST = "app.bsky.feed.post"
GET_POSTS_MAX = 25
"""``app.bsky.feed.getPosts``: ``uris`` ``maxLength``."""
COUNTS = ("replyCount", "repostCount", "likeCount", "quoteCount", "bookmarkCount")
"""A postView's counts (``app.bsky.feed.defs#postView``)."""
THREADGATE = "app.bsky.feed.threadgate"
MAX_BLOB_BYTES = 1_000_000
MAX_TEXT_BYTES = 3000
"""``app.bsky.feed.post#main`` ``text``: ``maxLength`` 3000 (UTF-8 bytes) ..."""
MAX_TEXT_GRAPHEMES = 300
"""... and ``maxGraphemes`` 300."""
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
LOGIN_LIMITS = ((30, dt.timedelta(minutes=5)), (300, dt.timedelta(days=1)))
ACCESS_LIFETIME = dt.timedelta(hours=2)
REFRESH_LIFETIME = dt.timedelta(days=90)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def fake_cid(data: bytes, *, raw: bool = False) -> str:
    """Shaped like a CIDv1 (base32, sha-256; dag-cbor for records, ``raw`` for blobs, as the
    PDS makes them); not a real one."""
    digest = base64.b32encode(hashlib.sha256(data).digest()).decode().lower().rstrip("=")
    return ("bafkrei" if raw else "bafyrei") + digest[:52]


@dataclass
class PdsAccount:
    handle: str
    did: str
    app_password: str
    revoked: bool = False


@dataclass
class Record:
    collection: str
    rkey: str
    value: dict[str, Any]
    cid: str
    uri: str


class FakeBluesky(FakeServer):
    name: ClassVar[str] = "bluesky"

    def __init__(
        self,
        *,
        handle: str = "belgiuminjapan.bsky.social",
        app_password: str = "abcd-efgh-ijkl-mnop",
        known_handles: dict[str, str] | None = None,
        duplicate_status: int = 500,
        records_from: FakeBluesky | None = None,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(clock=clock)
        self.records_from = records_from
        """The PDS whose posts this fake shows as an AppView; None: its own."""
        self.counts: dict[str, dict[str, int]] = {}
        """By post URI: what a test set (``set_counts``); every count 0 otherwise."""
        self.duplicate_status = duplicate_status
        self.handle = handle
        self.did = "did:plc:belgiuminjapan0000000000"
        self.known_handles = {handle: self.did, **(known_handles or {})}
        self.accounts: dict[str, PdsAccount] = {
            self.did: PdsAccount(handle, self.did, app_password)
        }
        """By DID."""
        self.records: dict[tuple[str, str, str], Record] = {}
        """By (repo DID, collection, record key)."""
        self.blobs: dict[str, tuple[str, bytes]] = {}
        self.logins: list[dt.datetime] = []
        """Every createSession that got past the limit, whatever its account."""
        self.logins_by_identifier: dict[str, list[dt.datetime]] = {}
        """The same, by the identifier logged in with: what the limit counts."""
        self.refreshes = 0
        self.deleted: list[str] = []
        self._key = secrets.token_bytes(32)
        self._revoked_up_to = 0
        self._jti = itertools.count(1)

    # --- the PDS's shapes ---------------------------------------------------------------------

    def error_body(self, status: int, message: str | None = None) -> Any:
        # @atproto/xrpc ResponseType and ResponseTypeStrings: the error's name, and the words
        # xrpc-server answers with when the error has no message of its own.
        names = {
            400: ("InvalidRequest", "Invalid Request"),
            401: ("AuthenticationRequired", "Authentication Required"),
            403: ("Forbidden", "Forbidden"),
            413: ("PayloadTooLarge", "Payload Too Large"),
            429: ("RateLimitExceeded", "Rate Limit Exceeded"),
            500: ("InternalServerError", "Internal Server Error"),
            502: ("UpstreamFailure", "Upstream Failure"),
            503: ("NotEnoughResources", "Not Enough Resources"),
        }
        name, words = names.get(status, names[500])
        return {"error": name, "message": message or words}

    def rate_limit(self, reset_at: dt.datetime, **where: Any) -> Fault:
        """429 with the reference PDS's headers, ``Retry-After`` included."""
        headers = {
            **self.rate_limit_headers(limit=100, remaining=0, reset_at=reset_at),
            "retry-after": self._retry_after(reset_at),
        }
        return self.inject(Fault(status=429, headers=headers, **where))

    def _retry_after(self, reset_at: dt.datetime) -> str:
        return str(max(0, math.ceil((reset_at - self.clock()).total_seconds())))

    def xrpc_error(self, status: int, error: str, message: str, **headers: str) -> Response:
        return Response(status, {"error": error, "message": message}, dict(headers))

    def rate_limit_headers(
        self, *, limit: int, remaining: int, reset_at: dt.datetime, window: int = 300
    ) -> dict[str, str]:
        """``window``: the policy's length in seconds."""
        return {
            "ratelimit-limit": str(limit),
            "ratelimit-remaining": str(remaining),
            "ratelimit-reset": str(int(reset_at.timestamp())),
            "ratelimit-policy": f"{limit};w={window}",
        }

    def dispatch(self, request: Request) -> Response:
        response = super().dispatch(request)
        reset = self.clock() + dt.timedelta(minutes=5)
        given = {name.lower() for name in response.headers}  # header names are case-insensitive
        defaults = self.rate_limit_headers(limit=3000, remaining=2999, reset_at=reset)
        response.headers = {
            **{name: value for name, value in defaults.items() if name not in given},
            **response.headers,
        }
        return response

    def set_counts(self, uri: str, **counts: int | None) -> None:
        """Set a post's counts, by the postView's names (``likeCount=3``); None removes one."""
        unknown = set(counts) - set(COUNTS)
        if unknown:
            raise ValueError(f"not a postView count: {sorted(unknown)}")
        with self.lock:
            held = self.counts.setdefault(uri, dict.fromkeys(COUNTS, 0))
            for name, value in counts.items():
                if value is None:
                    held.pop(name, None)
                else:
                    held[name] = value

    # --- tokens -----------------------------------------------------------------------------

    def _jwt(self, scope: str, lifetime: dt.timedelta, did: str) -> str:
        now = self.clock()
        payload = {
            "scope": scope,
            "sub": did,
            "aud": "did:web:fake.pds",
            "iat": int(now.timestamp()),
            "exp": int((now + lifetime).timestamp()),
        }
        payload["jti"] = f"{scope}-{next(self._jti)}"
        signing_input = (
            _b64(json.dumps({"typ": "JWT", "alg": "HS256"}).encode())
            + "."
            + _b64(json.dumps(payload).encode())
        )
        mac = hmac.new(self._key, signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + _b64(mac)

    def _claims(self, request: Request, scope: str) -> dict[str, Any] | Response:
        """The token's claims, or the PDS's error for a missing, forged or expired token."""
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return self.xrpc_error(401, "AuthMissing", "Authentication Required")
        try:
            signing_input, _, mac = header[7:].rpartition(".")
            expected = hmac.new(self._key, signing_input.encode(), hashlib.sha256).digest()
            claims: dict[str, Any] = json.loads(_unb64(signing_input.split(".")[1]))
            valid = hmac.compare_digest(expected, _unb64(mac))
        except (ValueError, IndexError):
            valid = False
        if not valid or claims.get("scope") != scope:
            return self.xrpc_error(400, "InvalidToken", "Token could not be verified")
        expired = claims["exp"] <= self.clock().timestamp()
        serial = int(str(claims.get("jti", "-0")).rpartition("-")[2])
        if expired or (scope != "com.atproto.refresh" and serial <= self._revoked_up_to):
            return self.xrpc_error(400, "ExpiredToken", "Token has expired")
        if self.accounts[claims["sub"]].revoked:
            return self.xrpc_error(400, "ExpiredToken", "Token has been revoked")
        return claims

    # --- accounts ---------------------------------------------------------------------------

    def add_account(self, handle: str, app_password: str | None = None) -> PdsAccount:
        """Another account on this PDS (its app password made up when not given)."""
        did = "did:plc:" + hashlib.sha256(handle.encode()).hexdigest()[:24]
        password = app_password or "-".join(secrets.token_hex(2) for _ in range(4))
        account = PdsAccount(handle, did, password)
        with self.lock:
            self.accounts[did] = account
            self.known_handles[handle] = did
        return account

    @property
    def app_password(self) -> str:
        """The first account's app password."""
        return self.accounts[self.did].app_password

    def account(self, handle: str) -> PdsAccount:
        return self.accounts[self.known_handles[handle]]

    def revoke(self, handle: str) -> None:
        """Revoke the account's app password: its logins fail, its sessions are refused."""
        self.account(handle).revoked = True

    def expire_tokens(self) -> None:
        """Every access token issued so far now gets ``ExpiredToken``; refresh tokens still work."""
        self._revoked_up_to = next(self._jti)

    def _session_body(self, account: PdsAccount) -> dict[str, Any]:
        return {
            "accessJwt": self._jwt("com.atproto.appPass", ACCESS_LIFETIME, account.did),
            "refreshJwt": self._jwt("com.atproto.refresh", REFRESH_LIFETIME, account.did),
            "handle": account.handle,
            "did": account.did,
            "didDoc": {
                "@context": ["https://www.w3.org/ns/did/v1"],
                "id": account.did,
                "alsoKnownAs": [f"at://{account.handle}"],
                "verificationMethod": [],
                "service": [
                    {
                        "id": "#atproto_pds",
                        "type": "AtprotoPersonalDataServer",
                        "serviceEndpoint": self.url,
                    }
                ],
            },
            "active": True,
        }

    # --- sessions ---------------------------------------------------------------------------

    @route("POST", "/xrpc/com.atproto.server.createSession")
    def create_session(self, request: Request) -> Response:
        body = request.json() or {}
        identifier = str(body.get("identifier"))
        limited = self._count_login(identifier.lower(), self.clock())
        if limited is not None:
            return limited
        account = self.accounts.get(self.known_handles.get(identifier, identifier))
        if account is None or account.revoked or body.get("password") != account.app_password:
            return self.xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
        return Response(200, self._session_body(account))

    def _count_login(self, identifier: str, now: dt.datetime) -> Response | None:
        """The 429 when ``identifier`` has used up a window's logins; else the login counted.
        The reference PDS keys the limit by the identifier, so each account has its own."""
        with self.lock:
            logins = self.logins_by_identifier.setdefault(identifier, [])
            for limit, window in LOGIN_LIMITS:
                recent = [t for t in logins if t > now - window]
                if len(recent) >= limit:
                    reset_at = min(recent) + window
                    headers = self.rate_limit_headers(
                        limit=limit,
                        remaining=0,
                        reset_at=reset_at,
                        window=int(window.total_seconds()),
                    )
                    headers["retry-after"] = self._retry_after(reset_at)
                    return self.xrpc_error(
                        429, "RateLimitExceeded", "Rate Limit Exceeded", **headers
                    )
            logins.append(now)
            self.logins.append(now)
        return None

    @route("POST", "/xrpc/com.atproto.server.refreshSession")
    def refresh_session(self, request: Request) -> Response:
        claims = self._claims(request, "com.atproto.refresh")
        if isinstance(claims, Response):
            return claims
        self.refreshes += 1
        return Response(200, self._session_body(self.accounts[claims["sub"]]))

    @route("GET", "/xrpc/com.atproto.server.getSession")
    def get_session(self, request: Request) -> Response:
        claims = self._claims(request, "com.atproto.appPass")
        if isinstance(claims, Response):
            return claims
        account = self.accounts[claims["sub"]]
        return Response(200, {"handle": account.handle, "did": account.did, "active": True})

    @route("GET", "/xrpc/com.atproto.identity.resolveHandle")
    def resolve_handle(self, request: Request) -> Response:
        did = self.known_handles.get(request.arg("handle") or "")
        if did is None:
            return self.xrpc_error(400, "InvalidRequest", "Unable to resolve handle")
        return Response(200, {"did": did})

    # --- blobs and records --------------------------------------------------------------------

    @route("POST", "/xrpc/com.atproto.repo.uploadBlob")
    def upload_blob(self, request: Request) -> Response:
        claims = self._claims(request, "com.atproto.appPass")
        if isinstance(claims, Response):
            return claims
        if len(request.body) > MAX_BLOB_BYTES:
            return self.xrpc_error(
                400,
                "BlobTooLarge",
                f"This file is too large. It is {len(request.body)} bytes "
                f"but the maximum size is {MAX_BLOB_BYTES} bytes.",
            )
        cid = fake_cid(request.body, raw=True)
        mime = request.headers.get("content-type", "application/octet-stream")
        self.blobs[cid] = (mime, request.body)
        return Response(
            200,
            {
                "blob": {
                    "$type": "blob",
                    "ref": {"$link": cid},
                    "mimeType": mime,
                    "size": len(request.body),
                }
            },
        )

    @route("POST", "/xrpc/com.atproto.repo.createRecord")
    def create_record(self, request: Request) -> Response:
        claims = self._claims(request, "com.atproto.appPass")
        if isinstance(claims, Response):
            return claims
        body = request.json() or {}
        write = {
            "collection": body.get("collection"),
            "rkey": body.get("rkey"),
            "value": body.get("record"),
        }
        refused = self._refused([write], claims["sub"], single=True)
        if refused is not None:
            return refused
        record = self._store(write, claims["sub"])
        return Response(
            200,
            {
                "uri": record.uri,
                "cid": record.cid,
                "commit": self._commit(),
                "validationStatus": "valid",
            },
        )

    @route("POST", "/xrpc/com.atproto.repo.applyWrites")
    def apply_writes(self, request: Request) -> Response:
        claims = self._claims(request, "com.atproto.appPass")
        if isinstance(claims, Response):
            return claims
        writes = (request.json() or {}).get("writes", [])
        if any(write.get("$type") != "com.atproto.repo.applyWrites#create" for write in writes):
            return self.xrpc_error(400, "InvalidRequest", "only creates are supported by the fake")
        refused = self._refused(writes, claims["sub"])  # all or nothing, as in one repo commit
        if refused is not None:
            return refused
        results = []
        for write in writes:
            record = self._store(write, claims["sub"])
            results.append(
                {
                    "$type": "com.atproto.repo.applyWrites#createResult",
                    "uri": record.uri,
                    "cid": record.cid,
                    "validationStatus": "valid",
                }
            )
        return Response(200, {"commit": self._commit(), "results": results})

    @route("POST", "/xrpc/com.atproto.repo.deleteRecord")
    def delete_record(self, request: Request) -> Response:
        claims = self._claims(request, "com.atproto.appPass")
        if isinstance(claims, Response):
            return claims
        body = request.json() or {}
        key = (claims["sub"], body.get("collection", ""), body.get("rkey", ""))
        record = self.records.pop(key, None)
        if record is not None:
            self.deleted.append(record.uri)
        return Response(200, {"commit": self._commit()})

    @route("GET", "/xrpc/com.atproto.repo.getRecord")
    def get_record(self, request: Request) -> Response:
        key = (self._repo(request), request.arg("collection") or "", request.arg("rkey") or "")
        record = self.records.get(key)
        if record is None:
            return self.xrpc_error(
                400, "RecordNotFound", f"Could not locate record: at://{'/'.join(key)}"
            )
        return Response(200, {"uri": record.uri, "cid": record.cid, "value": record.value})

    @route("GET", "/xrpc/com.atproto.repo.listRecords")
    def list_records(self, request: Request) -> Response:
        repo, collection = self._repo(request), request.arg("collection") or ""
        limit = max(1, min(int(request.arg("limit", "50") or 50), 100))
        cursor = request.arg("cursor")
        found = sorted(
            (
                r
                for (did, name, rkey), r in self.records.items()
                if did == repo and name == collection and (cursor is None or rkey < cursor)
            ),
            key=lambda r: r.rkey,
            reverse=True,
        )[:limit]
        body: dict[str, Any] = {
            "records": [{"uri": r.uri, "cid": r.cid, "value": r.value} for r in found]
        }
        if len(found) == limit:
            body["cursor"] = found[-1].rkey
        return Response(200, body)

    @route("GET", "/xrpc/app.bsky.feed.getPosts")
    def get_posts(self, request: Request) -> Response:
        uris = request.query.get("uris", [])
        if len(uris) > GET_POSTS_MAX:
            return self.xrpc_error(
                400,
                "InvalidRequest",
                f"Error: uris must not have more than {GET_POSTS_MAX} elements",
            )
        pds = self.records_from or self
        with pds.lock:
            views = [pds._post_view(uri) for uri in uris]
        return Response(200, {"posts": [view for view in views if view is not None]})

    def _post_view(self, uri: str) -> dict[str, Any] | None:
        """An ``app.bsky.feed.defs#postView`` of the post at ``uri``, None if there is none."""
        did, _, rest = uri.removeprefix("at://").partition("/")
        collection, _, rkey = rest.partition("/")
        record = self.records.get((did, collection, rkey))
        account = self.accounts.get(did)
        if record is None or collection != POST or account is None:
            return None
        return {
            "uri": record.uri,
            "cid": record.cid,
            "author": {"did": did, "handle": account.handle, "labels": []},
            "record": record.value,
            **self.counts.get(uri, dict.fromkeys(COUNTS, 0)),
            "indexedAt": record.value.get("createdAt") or "2026-01-01T00:00:00.000Z",
            "labels": [],
            "viewer": {},  # nobody logged in: no like, bookmark or mute of the viewer's
        }

    def _repo(self, request: Request) -> str:
        repo = request.arg("repo") or ""
        return self.known_handles.get(repo, repo)

    # --- validation -------------------------------------------------------------------------

    def _refused(
        self, writes: list[dict[str, Any]], did: str, *, single: bool = False
    ) -> Response | None:
        """The PDS's answer to writes it will not commit, or None. ``single``: one record
        (``createRecord``), whose problems the PDS places at ``$.record``, not ``$.writes[i]``."""
        for number, write in enumerate(writes):
            key = (did, write.get("collection") or "", write.get("rkey") or "")
            if key[2] and key in self.records:
                if self.duplicate_status == 409:
                    return self.xrpc_error(
                        409, "RecordAlreadyExists", f"Record already exists: at://{'/'.join(key)}"
                    )
                return self.xrpc_error(500, "InternalServerError", "Internal Server Error")
            path = "$.record" if single else f"$.writes[{number}].record"
            problem = self._invalid(write, writes, did, path)
            if problem:
                return self.xrpc_error(400, "InvalidRequest", problem)
        return None

    def _invalid(
        self, write: dict[str, Any], batch: list[dict[str, Any]], did: str, path: str
    ) -> str | None:
        collection, rkey, value = (
            write.get("collection"),
            write.get("rkey"),
            write.get("value") or {},
        )
        if rkey is not None and collection in (POST, THREADGATE) and not TID.fullmatch(rkey):
            return f"Invalid record key for {collection}: must be a TID, got {rkey!r}"
        if collection == POST:
            return self._invalid_post(value, path)
        if collection == THREADGATE:
            post_uri = f"at://{did}/{POST}/{rkey}"
            posts_in_batch = {f"at://{did}/{w.get('collection')}/{w.get('rkey')}" for w in batch}
            if value.get("post") != post_uri or not (
                {post_uri} & (posts_in_batch | {r.uri for r in self.records.values()})
            ):
                return f"Invalid {THREADGATE} record: post must be the record with the same rkey"
        return None

    def _invalid_post(self, value: dict[str, Any], path: str) -> str | None:
        text = value.get("text", "")
        # The reference PDS (@atproto/lex-schema StringSchema, then pds repo/prepare.ts): bytes
        # are checked before graphemes. PDSes before March 2026 (@atproto/lexicon) said
        # "Record/text must not be longer than 3000 characters" (or "300 graphemes") instead.
        size = len(text.encode())
        if size > MAX_TEXT_BYTES:
            return (
                f"Invalid {POST} record: string too big "
                f"(maximum {MAX_TEXT_BYTES}, got {size}) at {path}.text"
            )
        count = graphemes(text)
        if count > MAX_TEXT_GRAPHEMES:
            return (
                f"Invalid {POST} record: grapheme too big "
                f"(maximum {MAX_TEXT_GRAPHEMES}, got {count}) at {path}.text"
            )
        for facet in value.get("facets") or []:
            index = facet.get("index", {})
            if not 0 <= index.get("byteStart", -1) < index.get("byteEnd", -1) <= size:
                return f"Invalid {POST} record: facet index out of range"
        images = (value.get("embed") or {}).get("images") or []
        if len(images) > 4 or any(
            img.get("image", {}).get("ref", {}).get("$link") not in self.blobs for img in images
        ):
            return f"Invalid {POST} record: Record/embed/images: at most 4 uploaded blobs"
        if any("alt" not in img for img in images):
            return f'Invalid {POST} record: Record/embed/images/0 must have the property "alt"'
        reply = value.get("reply")
        if reply is not None:
            for ref in (reply.get("root") or {}, reply.get("parent") or {}):
                known = next((r for r in self.records.values() if r.uri == ref.get("uri")), None)
                if known is None or known.cid != ref.get("cid"):
                    return f"Invalid reply reference: {ref.get('uri')}"
        return None

    def _store(self, write: dict[str, Any], did: str) -> Record:
        rkey = write.get("rkey") or self._tid()
        value = write.get("value") or {}
        cid = fake_cid(json.dumps(value, sort_keys=True).encode())
        record = Record(
            write["collection"], rkey, value, cid, f"at://{did}/{write['collection']}/{rkey}"
        )
        self.records[(did, record.collection, rkey)] = record
        return record

    def _tid(self) -> str:
        """A TID from the fake's clock, as a PDS makes one for a record without a key."""
        micros = int(self.clock().timestamp() * 1_000_000) + next(self._jti)
        value = micros << 10
        return "".join(TID_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(13)))

    def _commit(self) -> dict[str, str]:
        return {"cid": fake_cid(secrets.token_bytes(8)), "rev": self._tid()}

    @property
    def posted(self) -> list[Record]:
        """Post records that exist, in record-key (time) order; read under the lock, since a
        benchmark asks while the server's threads are still storing posts."""
        with self.lock:
            records = list(self.records.values())
        return sorted((r for r in records if r.collection == POST), key=lambda r: r.rkey)

    def threadgate(self, post: Record) -> Record | None:
        did = post.uri.removeprefix("at://").split("/")[0]
        return self.records.get((did, THREADGATE, post.rkey))
