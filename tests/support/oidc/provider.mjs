// A real OpenID provider for the tests: the certified oidc-provider package, with its own
// development login and consent pages (any login name signs in as that account).
// Configuration comes as JSON in OIDC_TEST_CONFIG: {"port", "clients": [...], "accounts": {...}}.
// It prints "ready <issuer>" once it listens; tests/support/oidc_provider.py starts it.
import Provider from "oidc-provider";

const { port, clients, accounts } = JSON.parse(process.env.OIDC_TEST_CONFIG);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients,
  pkce: { required: () => true },
  cookies: { keys: ["test cookie key, not a secret anywhere"] },
  claims: {
    openid: ["sub"],
    profile: ["name", "preferred_username"],
    email: ["email", "email_verified"],
  },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account }) };
  },
  features: { devInteractions: { enabled: true } },
});
provider.proxy = false;
provider.listen(port, "127.0.0.1", () => console.log(`ready ${issuer}`));
