// Every constant the C++ core shares with the TypeScript side, exported to it as one object so that
// src/shared/native-constants.ts checks its own copies against these at load: a value changed on one
// side only fails loudly at start-up instead of misreading exit records or rings.
#pragma once

#include <napi.h>

namespace femtovm {

Napi::Object NativeConstants(Napi::Env env);

}  // namespace femtovm
