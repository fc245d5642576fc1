// unit_pch.cpp — the translation unit that builds unit_pch.hpp into a precompiled header.
