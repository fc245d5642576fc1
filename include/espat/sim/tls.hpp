// espat/sim/tls.hpp — the simulator's TLS building blocks in one include: flashed credentials,
// the SSL client settings of AT+CIPSSLC* and AT+CIPSTART="SSL", the SSL server of
// AT+CIPSERVER, handshake results and errors. Needs OpenSSL (link OpenSSL::SSL).
#pragma once

#include <espat/sim/tls_client.hpp>
#include <espat/sim/tls_credentials.hpp>
#include <espat/sim/tls_error.hpp>
#include <espat/sim/tls_server.hpp>
#include <espat/sim/tls_session.hpp>
