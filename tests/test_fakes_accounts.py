"""The fakes' accounts and OAuth endpoints: several accounts, revoked tokens, the PIN and code
flows refusing what the real platforms refuse."""

from __future__ import annotations

import socket
from urllib.parse import parse_qs

import pytest
import requests
from fake_fixtures import bluesky_adapter, mastodon_adapter, settings, x_adapter
from fakes import FakeBluesky, FakeMastodon, FakeX
from requests_oauthlib import OAuth1Session

from adapters.base import OutgoingPart
from adapters.bluesky import BlueskyAdapter
from adapters.errors import CredentialsInvalid
from adapters.mastodon import SCOPES, MastodonAuthorization
from adapters.secrets import Secret


def test_x_revoked_token_gets_401_and_other_users_answer_as_themselves(fake_x: FakeX) -> None:
    token, secret = fake_x.token_of(
        fake_x.add_user("BelgiumInUSA", name="Belgium in the US").username
    )
    other = x_adapter(fake_x, credentials={"access_token": token, "access_token_secret": secret})
    assert other.verify().handle == "@BelgiumInUSA"
    fake_x.revoke(token)
    with pytest.raises(CredentialsInvalid):
        other.verify()
    assert x_adapter(fake_x).verify().handle == "@BelgiumInJapan"


def test_x_pin_is_single_use_and_must_match(fake_x: FakeX) -> None:
    app = OAuth1Session("consumer-key", client_secret="consumer-secret", callback_uri="oob")
    request_token = app.fetch_request_token(f"{fake_x.url}/oauth/request_token")
    page = requests.get(
        f"{fake_x.url}/oauth/authorize?oauth_token={request_token['oauth_token']}", timeout=5
    )
    assert page.status_code == 200 and "@BelgiumInJapan" in page.text
    exchange = OAuth1Session(
        "consumer-key",
        client_secret="consumer-secret",
        resource_owner_key=request_token["oauth_token"],
        resource_owner_secret=request_token["oauth_token_secret"],
        verifier="wrong",
    )
    with pytest.raises(ValueError, match="401"):
        exchange.fetch_access_token(f"{fake_x.url}/oauth/access_token")
    assert request_token["oauth_token"] not in fake_x.request_tokens, "a request token serves once"


def test_x_authorize_page_refuses_an_unknown_token(fake_x: FakeX) -> None:
    assert requests.get(f"{fake_x.url}/oauth/authorize?oauth_token=x", timeout=5).status_code == 403


def test_mastodon_code_flow_refuses_a_second_exchange(fake_mastodon: FakeMastodon) -> None:
    flow = MastodonAuthorization(base_url=fake_mastodon.url, timeout=2)
    url = flow.authorization_url()
    page = requests.get(url, timeout=5)
    code = page.text.split('value="')[1].split('"')[0]
    token = flow.finish(code)["access_token"].reveal()
    assert fake_mastodon.tokens[token].scopes == tuple(SCOPES)
    with pytest.raises(CredentialsInvalid, match="refused the code") as refused:
        flow.finish(code)
    assert code not in str(refused.value)
    app_id = parse_qs(url.split("?", 1)[1])["client_id"][0]
    answer = requests.post(
        f"{fake_mastodon.url}/oauth/token",
        data={"client_id": app_id, "client_secret": "wrong", "code": code},
        timeout=5,
    )
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


def test_mastodon_revoked_token_and_several_accounts(fake_mastodon: FakeMastodon) -> None:
    account = fake_mastodon.add_account("belgiumcanada")
    token = fake_mastodon.token_of(account.username)
    canada = mastodon_adapter(fake_mastodon, credentials={"access_token": token})
    assert canada.verify().handle == "@belgiumcanada"
    fake_mastodon.revoke(token)
    with pytest.raises(CredentialsInvalid):
        canada.verify()
    assert mastodon_adapter(fake_mastodon).verify().handle == "@BelgiumInJapan"


def test_bluesky_accounts_post_to_their_own_repo_and_can_be_revoked(
    fake_bluesky: FakeBluesky,
) -> None:
    account = fake_bluesky.add_account("belgiumcanada.bsky.social")
    adapter = BlueskyAdapter(
        settings=settings("@belgiumcanada.bsky.social"),
        credentials={"app_password": Secret(account.app_password)},
        base_url=fake_bluesky.url,
    )
    published = adapter.publish(OutgoingPart(text="Hello from Ottawa", idempotency_key="k"))
    assert published.remote_id.startswith(f"at://{account.did}/")
    fake_bluesky.revoke("belgiumcanada.bsky.social")
    with pytest.raises(CredentialsInvalid):
        adapter.verify()
    assert bluesky_adapter(fake_bluesky).verify().handle == "@belgiuminjapan.bsky.social"


def test_a_request_cut_off_mid_body_is_never_acted_on(fake_mastodon: FakeMastodon) -> None:
    """Before: the fake created a status from the half it had read (an empty text, keeping the
    request's Idempotency-Key), and a resend with that key got the empty status back as its own:
    the kill -9 scenario then counted a silent loss and an extra post. Real servers read the
    whole body before the application sees a request."""
    body = "status=Orange+the+World%3A+end+digital+violence&visibility=public"
    head = (
        "POST /api/v1/statuses HTTP/1.1\r\n"
        f"Host: {fake_mastodon.url.removeprefix('http://')}\r\n"
        "Authorization: Bearer mastodon-token\r\n"
        "Idempotency-Key: k-cut\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    host, port = fake_mastodon.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(head.encode() + body[:10].encode())
        connection.shutdown(socket.SHUT_WR)  # the sender is gone
        assert connection.recv(1024) == b""  # closed without an answer
    assert fake_mastodon.posted == []
    sent = mastodon_adapter(fake_mastodon).publish(OutgoingPart(
        "Orange the World: end digital violence", "k-cut"))  # fmt: skip
    [status] = fake_mastodon.posted
    assert (status.id, status.text) == (sent.remote_id, "Orange the World: end digital violence")
