// Packaging test: a consumer of espat as a meson subproject.
// The umbrella header compiles and the parser turns "\r\nOK\r\n" into exactly one `ok` event.
#include <espat.hpp>

#include <string_view>

int main()
{
    espat::proto::parser p;
    int events = 0;
    int oks = 0;
    p.feed(std::string_view("\r\nOK\r\n"), [&](const espat::proto::event& e) {
        ++events;
        if (e.kind == espat::proto::event_kind::ok) ++oks;
    });
    return events == 1 && oks == 1 ? 0 : 1;
}
