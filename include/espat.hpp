// espat.hpp — the whole library: include this, or the one header per concept under espat/.
#pragma once

#include <espat/config.hpp>
#include <espat/error.hpp>
#include <espat/proto/event.hpp>
#include <espat/proto/line_classifier.hpp>
#include <espat/proto/json.hpp>
#include <espat/proto/parser.hpp>
#include <espat/proto/session.hpp>
#include <espat/proto/transcript.hpp>
