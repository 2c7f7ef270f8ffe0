// The consumer test's program: creates, reads and removes one session through the
// installed client, and hears its removal, to prove that headers, library and
// dependencies were found.
#include <pgsession/client.hpp>
#include <pgsession/pool.hpp>
#include <pgsession/subscription.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <vector>

int main(int argc, char **argv) {
    const char *conninfo = argc > 1 ? argv[1] : std::getenv("PGSESSION_CONNINFO");
    if (!conninfo) {
        std::cerr << "usage: consumer CONNINFO\n";
        return 2;
    }
    try {
        pgsession::subscription events{conninfo};
        pgsession::pool sessions{conninfo, 2};
        pgsession::create_options options;
        options.sub = "consumer";
        const std::string token = sessions.acquire()->create(options);
        const auto found = sessions.acquire()->get(token);
        const bool removed = sessions.acquire()->remove(token);
        if (!found || found->sub != "consumer" || !removed) {
            std::cerr << "consumer: the session did not round-trip\n";
            return 1;
        }
        const std::vector<pgsession::event> heard = events.poll(std::chrono::seconds{5});
        if (heard.empty() || heard[0].id_sha256 != pgsession::token_sha256(token)) {
            std::cerr << "consumer: the removal was not heard\n";
            return 1;
        }
        std::cout << "consumer: ok\n";
        return 0;
    } catch (const pgsession::error &e) {
        std::cerr << "consumer: " << e.what() << '\n';
        return 1;
    }
}
