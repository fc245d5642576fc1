// integration_pch.cpp — the translation unit that builds integration_pch.hpp into a precompiled header.
