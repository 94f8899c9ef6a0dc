"""Per-project provider credentials in Kaapi's shape, against a live `lse serve`: stored
encrypted (Fernet, LSE_SECRET_KEY), shown masked, never logged; a project's runs use its
own OpenAI key, others the deployment's; the key can be rotated with one command."""

from __future__ import annotations

from cryptography.fernet import Fernet
from kaapi_client import completed_run, config, start, upload, wait
from pydantic import SecretStr

from helpers.cli import lse_env, run_lse
from helpers.live_lse import start_live_lse
from lse.settings import Settings
from lse.store.engine import dispose_engines, get_engine, unit_of_work
from lse.store.models.evaluation import ProviderCredential
from lse.tenancy import ensure_tenant
from lse.tenancy.credentials import CredentialsCreate, create_credentials, provider_credentials

OPENAI_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"
LANGFUSE = {
    "public_key": "pk-lf-1234567890abcdef",
    "secret_key": "sk-lf-abcdef1234567890",
    "host": "https://cloud.langfuse.com",
}


def test_kaapis_credentials_api_masks_and_encrypts(live_lse):
    key = live_lse.new_key()
    with live_lse.client(key) as c:
        assert c.get("/api/v1/credentials/").status_code == 404  # none yet, as Kaapi answers
        # Kaapi's documented single-provider and multi-provider bodies
        single = c.post("/api/v1/credentials/", json={"credential": {"openai": {"api_key": OPENAI_KEY}}})
        assert single.status_code == 200, single.text
        (created,) = single.json()["data"]
        assert created["provider"] == "openai" and created["credential"] == {"api_key": "sk-…6789"}
        multi = c.post(
            "/api/v1/credentials/",
            json={"credential": {"langfuse": LANGFUSE, "google": {"api_key": "AIzaSy0123456789abcdef"}}},
        )
        assert multi.status_code == 200, multi.text
        assert c.post("/api/v1/credentials/", json={"credential": {"openai": {"api_key": "x" * 20}}}).status_code == 409
        assert c.post("/api/v1/credentials/", json={"credential": {"nope": {"api_key": "x"}}}).status_code == 422
        assert c.post("/api/v1/credentials/", json={"credential": {"openai": {"key": "x"}}}).status_code == 422

        listed = c.get("/api/v1/credentials/").json()["data"]
        assert [x["provider"] for x in listed] == ["google", "langfuse", "openai"]
        lf = c.get("/api/v1/credentials/provider/langfuse").json()["data"]["credential"]
        assert lf == {"host": "https://cloud.langfuse.com", "public_key": "pk-…cdef", "secret_key": "sk-…7890"}
        patched = c.patch(
            "/api/v1/credentials/", json={"provider": "langfuse", "credential": {"secret_key": "sk-lf-rotated-000000"}}
        )
        assert patched.status_code == 200
        everything = str(listed) + str(patched.json()) + c.get("/api/v1/credentials/provider/openai").text
        assert OPENAI_KEY not in everything and LANGFUSE["secret_key"] not in everything

    settings = live_lse.settings()
    with unit_of_work(get_engine(settings)) as s:
        rows = s.query(ProviderCredential).all()
        assert rows and all(OPENAI_KEY not in r.secret and "sk-lf" not in r.secret for r in rows)  # ciphertext
        tenant = rows[0]
        fields = provider_credentials(s, tenant.organization_id, tenant.project_id, "langfuse", settings=settings)
    assert fields == {**LANGFUSE, "secret_key": "sk-lf-rotated-000000"}  # what the tracing export reads
    assert provider_credentials(settings, tenant.organization_id, tenant.project_id, "openai") == {
        "api_key": OPENAI_KEY
    }

    # Kaapi's documented multi-provider body, as written there
    doc = {
        "credential": {
            "openai": {"api_key": "sk-proj-..."},
            "google": {"api_key": "AIzaSy..."},
            "sarvamai": {"api_key": "sarvam-..."},
            "elevenlabs": {"api_key": "sk_..."},
            "langfuse": {"public_key": "pk-lf-....", "secret_key": "sk-lf-...", "host": "https://cloud.langfuse.com"},
        }
    }
    with live_lse.client(live_lse.new_key()) as c:
        r = c.post("/api/v1/credentials/", json=doc)
        assert r.status_code == 200 and len(r.json()["data"]) == 5, r.text

    with live_lse.client(key) as c:
        r = c.delete("/api/v1/credentials/provider/google")
        assert r.status_code == 200 and r.json()["data"] == {"message": "Provider credentials removed successfully"}
        assert c.get("/api/v1/credentials/provider/google").status_code == 404
        assert c.delete("/api/v1/credentials/").json()["data"] == {"message": "All credentials deleted successfully"}
        assert c.get("/api/v1/credentials/").status_code == 404
    assert OPENAI_KEY not in live_lse.log_path.read_text(errors="replace")  # never logged


def test_a_projects_runs_use_its_own_openai_key(tmp_path, live_openai):
    """The deployment's key is wrong for the sandbox: only the project that stored the
    right key gets its run through."""
    server = start_live_lse(
        tmp_path / "data",
        LSE_SECRET_KEY=Fernet.generate_key().decode(),
        OPENAI_BASE_URL=live_openai.base_url,
        OPENAI_API_KEY="sk-deployment-key-the-sandbox-refuses",
    )
    try:
        own, other = server.new_key(), server.new_key()
        csv = b"question,answer\nWhat is 2+2?,4\n"
        with server.client(own) as c:
            c.post("/api/v1/credentials", json={"credential": {"openai": {"api_key": live_openai.api_key}}})
            run = completed_run(c, csv)
            assert run["progress"]["succeeded"] == 1
        with server.client(other) as c:
            ds = upload(c, csv).json()["data"]
            failed = wait(c, start(c, ds["dataset_id"], config(c)["id"]).json()["data"]["id"])
            assert failed["status"] == "failed" and "Incorrect API key" in failed["error_message"]
        assert live_openai.api_key not in server.log_path.read_text(errors="replace")
    finally:
        server.stop()


def test_rotating_the_secret_key(tmp_path):
    """`lse admin rotate-credentials` with LSE_SECRET_KEY="new,old" re-encrypts every stored
    credential under the new key; the old one can then be dropped."""
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings = Settings(data_dir=tmp_path / "data", secret_key=SecretStr(old))
    tenant = ensure_tenant(settings, "o", "p")
    create_credentials(settings, tenant, CredentialsCreate(credential={"openai": {"api_key": OPENAI_KEY}}))
    dispose_engines()
    env = lse_env(LSE_DATA_DIR=str(tmp_path / "data"), LSE_SECRET_KEY=f"{new},{old}")
    proc = run_lse("admin", "rotate-credentials", env=env)
    assert proc.returncode == 0 and "re-encrypted 1 credential" in proc.stderr, proc.stderr
    rotated = settings.model_copy(update={"secret_key": SecretStr(new)})
    with unit_of_work(get_engine(rotated)) as s:
        token = s.query(ProviderCredential).one().secret
    assert Fernet(new.encode()).decrypt(token.encode())  # now under the new key alone
    assert provider_credentials(rotated, tenant.organization_id, tenant.project_id, "openai") == {"api_key": OPENAI_KEY}
    missing = run_lse("admin", "rotate-credentials", env={**env, "LSE_SECRET_KEY": ""})
    assert missing.returncode == 1 and "LSE_SECRET_KEY is not set" in missing.stderr
    wrong = run_lse("admin", "rotate-credentials", env={**env, "LSE_SECRET_KEY": Fernet.generate_key().decode()})
    assert wrong.returncode == 1 and "cannot be decrypted" in wrong.stderr
