// A web login with pgsession, step by step: an anonymous session holds the OAuth/OIDC
// values of the login in progress, the callback stores what the login produced, and the
// session gets a new token now that it is privileged.
//
//     login_flow "host=127.0.0.1 dbname=app user=app"
//
// (or set PGSESSION_CONNINFO).
#include <pgsession/client.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>

int main(int argc, char **argv) {
    const char *conninfo = argc > 1 ? argv[1] : std::getenv("PGSESSION_CONNINFO");
    if (!conninfo) {
        std::cerr << "usage: login_flow CONNINFO (or set PGSESSION_CONNINFO)\n";
        return 2;
    }
    try {
        pgsession::client sessions{conninfo};

        // 1. The user clicks "log in": remember what the identity provider must echo.
        pgsession::create_options login;
        login.nonce = "n-0S6_WzA2Mj";
        login.state = "af0ifjsldkj";
        login.code_verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        login.idle_timeout = std::chrono::minutes{15};
        std::string token = sessions.create(login);
        std::cout << "created a session for the login in progress\n";

        // 2. The provider redirects back: check state, then keep the login's outcome and
        //    drop the one-time values.
        std::optional<pgsession::session> pending = sessions.get(token);
        if (!pending || pending->state != "af0ifjsldkj") {
            std::cerr << "the login session is gone or the state does not match\n";
            return 1;
        }
        pgsession::update_options logged_in;
        logged_in.access_token = "eyJhbGciOiJSUzI1NiJ9.example.signature";
        logged_in.sub = "248289761001";
        logged_in.data = R"({"name": "Jane Doe"})";
        logged_in.clear = {pgsession::field::nonce, pgsession::field::state,
                           pgsession::field::code_verifier};
        sessions.update(token, logged_in);

        // 3. New privileges, new token: the old one stops working at once.
        std::optional<std::string> rotated = sessions.rotate(token);
        if (!rotated || sessions.get(token)) {
            std::cerr << "rotation did not replace the token\n";
            return 1;
        }
        token = *rotated;

        // 4. Later requests find the user by the token.
        std::optional<pgsession::session> current = sessions.get(token);
        if (!current || current->sub != "248289761001" || current->nonce) {
            std::cerr << "the logged-in session is not as stored\n";
            return 1;
        }
        auto left = std::chrono::duration_cast<std::chrono::seconds>(
            current->expires_at - std::chrono::system_clock::now());
        std::cout << "logged in as " << *current->sub << ", data " << current->data.value_or("{}")
                  << ", expires in " << left.count() << " s\n";

        // 5. Log out.
        bool removed = sessions.remove(token);
        std::cout << (removed ? "logged out\n" : "the session was already gone\n");
        return removed ? 0 : 1;
    } catch (const pgsession::error &e) {
        std::cerr << e.what() << '\n';
        return 1;
    }
}
