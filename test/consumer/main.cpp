// The consumer test's program: creates, reads and removes one session through the
// installed client, to prove that headers, library and dependencies were found.
#include <pgsession/client.hpp>
#include <pgsession/pool.hpp>

#include <cstdlib>
#include <iostream>

int main(int argc, char **argv) {
    const char *conninfo = argc > 1 ? argv[1] : std::getenv("PGSESSION_CONNINFO");
    if (!conninfo) {
        std::cerr << "usage: consumer CONNINFO\n";
        return 2;
    }
    try {
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
        std::cout << "consumer: ok\n";
        return 0;
    } catch (const pgsession::error &e) {
        std::cerr << "consumer: " << e.what() << '\n';
        return 1;
    }
}
