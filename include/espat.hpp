// espat.hpp — the whole library: include this, or the one header per concept under espat/.
#pragma once

#include <espat/config.hpp>
#include <espat/error.hpp>
#include <espat/proto/event.hpp>
#include <espat/proto/line_classifier.hpp>
#include <espat/proto/parser.hpp>
