// Vectorscan (Hyperscan API) block-mode database for the built-in engine's
// prefilter: compile N expressions once, then report which expression ids
// occur in a buffer. Every hit is verified again in JavaScript, so this code
// only has to be fast, not exact about ClamAV offset/target rules.
#include <napi.h>
#include <hs/hs.h>
#include <string>
#include <vector>

namespace {

class Database : public Napi::ObjectWrap<Database> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports) {
    Napi::Function fn = DefineClass(env, "Database", {InstanceMethod("scan", &Database::Scan), InstanceMethod("close", &Database::Close)});
    exports.Set("Database", fn);
    return exports;
  }

  explicit Database(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Database>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsArray()) {
      Napi::TypeError::New(env, "expected an array of expressions").ThrowAsJavaScriptException();
      return;
    }
    Napi::Array list = info[0].As<Napi::Array>();
    std::vector<std::string> exprs(list.Length());
    std::vector<const char*> ptrs(list.Length());
    std::vector<unsigned int> flags(list.Length(), HS_FLAG_DOTALL | HS_FLAG_SINGLEMATCH);
    std::vector<unsigned int> ids(list.Length());
    for (uint32_t i = 0; i < list.Length(); i++) {
      exprs[i] = list.Get(i).As<Napi::String>().Utf8Value();
      ptrs[i] = exprs[i].c_str();
      ids[i] = i;
    }
    hs_compile_error_t* err = nullptr;
    if (hs_compile_multi(ptrs.data(), flags.data(), ids.data(), static_cast<unsigned int>(list.Length()), HS_MODE_BLOCK, nullptr, &db_, &err) != HS_SUCCESS) {
      std::string msg = err != nullptr && err->message != nullptr ? err->message : "compile failed";
      int which = err != nullptr ? err->expression : -1;
      if (err != nullptr) hs_free_compile_error(err);
      Napi::Error e = Napi::Error::New(env, msg);
      e.Set("expression", Napi::Number::New(env, which));
      e.ThrowAsJavaScriptException();
      return;
    }
    if (hs_alloc_scratch(db_, &scratch_) != HS_SUCCESS) {
      Napi::Error::New(env, "cannot allocate scratch").ThrowAsJavaScriptException();
    }
  }

  ~Database() override { Free(); }

 private:
  hs_database_t* db_ = nullptr;
  hs_scratch_t* scratch_ = nullptr;

  void Free() {
    if (scratch_ != nullptr) hs_free_scratch(scratch_);
    if (db_ != nullptr) hs_free_database(db_);
    scratch_ = nullptr;
    db_ = nullptr;
  }

  static int OnMatch(unsigned int id, unsigned long long, unsigned long long, unsigned int, void* ctx) {
    static_cast<std::vector<unsigned int>*>(ctx)->push_back(id);
    return 0;
  }

  Napi::Value Scan(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (db_ == nullptr) {
      Napi::Error::New(env, "database closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (info.Length() < 1 || !info[0].IsTypedArray()) {
      Napi::TypeError::New(env, "expected a Uint8Array").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
    std::vector<unsigned int> hits;
    // An empty typed array may have no backing store: hs_scan refuses a null pointer.
    static const char kEmpty[1] = {0};
    const char* bytes = data.ByteLength() == 0 ? kEmpty : reinterpret_cast<const char*>(data.Data());
    // hs_scan takes an unsigned int length; scan larger buffers in overlapping windows is not needed: parts are bounded far below 4 GiB.
    if (hs_scan(db_, bytes, static_cast<unsigned int>(data.ByteLength()), 0, scratch_, OnMatch, &hits) != HS_SUCCESS) {
      Napi::Error::New(env, "scan failed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Array out = Napi::Array::New(env, hits.size());
    for (size_t i = 0; i < hits.size(); i++) out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, hits[i]));
    return out;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Free();
    return info.Env().Undefined();
  }
};

Napi::Object Init(Napi::Env env, Napi::Object exports) { return Database::Init(env, exports); }

}  // namespace

NODE_API_MODULE(vectorscan, Init)
