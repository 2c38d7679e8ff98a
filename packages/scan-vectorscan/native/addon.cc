// Vectorscan (Hyperscan API) block-mode database for the built-in engine's
// prefilter: compile N expressions once, then report which expression ids
// occur in a buffer. Every hit is verified again in JavaScript, so this code
// only has to be fast, not exact about ClamAV offset/target rules.
//
// compileAsync runs hs_compile_multi on libuv's thread pool: a signature set
// of 10,000 .ndb patterns takes seconds to compile and 50,000 tens of seconds,
// and a SIGHUP reload that compiled on the main thread stalled every message
// in flight (and every comforting tick) for that long.
#include <napi.h>
#include <hs/hs.h>
#include <string>
#include <vector>

namespace {

// What a compile produces, owned by whoever holds it last (the worker until the Database takes it).
struct Compiled {
  hs_database_t* db = nullptr;
  hs_scratch_t* scratch = nullptr;
  std::string error;
  int expression = -1;

  void Free() {
    if (scratch != nullptr) hs_free_scratch(scratch);
    if (db != nullptr) hs_free_database(db);
    scratch = nullptr;
    db = nullptr;
  }
};

// Compiles in the calling thread; no V8 access, so it also runs on the thread pool.
Compiled CompileAll(const std::vector<std::string>& exprs) {
  Compiled out;
  std::vector<const char*> ptrs(exprs.size());
  std::vector<unsigned int> flags(exprs.size(), HS_FLAG_DOTALL | HS_FLAG_SINGLEMATCH);
  std::vector<unsigned int> ids(exprs.size());
  for (size_t i = 0; i < exprs.size(); i++) {
    ptrs[i] = exprs[i].c_str();
    ids[i] = static_cast<unsigned int>(i);
  }
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(ptrs.data(), flags.data(), ids.data(), static_cast<unsigned int>(exprs.size()), HS_MODE_BLOCK,
                       nullptr, &out.db, &err) != HS_SUCCESS) {
    out.error = err != nullptr && err->message != nullptr ? err->message : "compile failed";
    out.expression = err != nullptr ? err->expression : -1;
    if (err != nullptr) hs_free_compile_error(err);
    out.db = nullptr;
    return out;
  }
  if (hs_alloc_scratch(out.db, &out.scratch) != HS_SUCCESS) {
    out.Free();
    out.error = "cannot allocate scratch";
  }
  return out;
}

bool ReadExpressions(const Napi::Value& v, std::vector<std::string>* exprs) {
  if (!v.IsArray()) return false;
  Napi::Array list = v.As<Napi::Array>();
  exprs->resize(list.Length());
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value e = list.Get(i);
    if (!e.IsString()) return false;
    (*exprs)[i] = e.As<Napi::String>().Utf8Value();
  }
  return true;
}

Napi::Error CompileError(Napi::Env env, const Compiled& c) {
  Napi::Error e = Napi::Error::New(env, c.error);
  e.Set("expression", Napi::Number::New(env, c.expression));
  return e;
}

Napi::Value CompileAsync(const Napi::CallbackInfo& info);

class Database : public Napi::ObjectWrap<Database> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports) {
    Napi::Function fn = DefineClass(env, "Database", {
        InstanceMethod("scan", &Database::Scan),
        InstanceMethod("close", &Database::Close),
    });
    constructor = new Napi::FunctionReference(Napi::Persistent(fn));
    exports.Set("Database", fn);
    exports.Set("compileAsync", Napi::Function::New(env, &CompileAsync));
    return exports;
  }

  // new Database(expressions) compiles here and now; new Database(External<Compiled>) adopts a finished compile.
  explicit Database(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Database>(info) {
    Napi::Env env = info.Env();
    if (info.Length() >= 1 && info[0].IsExternal()) {
      Compiled* c = info[0].As<Napi::External<Compiled>>().Data();
      db_ = c->db;
      scratch_ = c->scratch;
      c->db = nullptr;
      c->scratch = nullptr;
      return;
    }
    std::vector<std::string> exprs;
    if (info.Length() < 1 || !ReadExpressions(info[0], &exprs)) {
      Napi::TypeError::New(env, "expected an array of expressions").ThrowAsJavaScriptException();
      return;
    }
    Compiled c = CompileAll(exprs);
    if (c.db == nullptr) {
      CompileError(env, c).ThrowAsJavaScriptException();
      return;
    }
    db_ = c.db;
    scratch_ = c.scratch;
  }

  static Napi::FunctionReference* constructor;

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
    // hs_scan takes an unsigned int length; no windowing is needed: parts are bounded far below 4 GiB.
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

Napi::FunctionReference* Database::constructor = nullptr;

// compileAsync(expressions) -> Promise<Database>: the compile on the thread pool, the Database made back on the
// main thread. A refused expression rejects with the same {message, expression} as the constructor throws.
class CompileWorker : public Napi::AsyncWorker {
 public:
  CompileWorker(Napi::Env env, std::vector<std::string> exprs)
      : Napi::AsyncWorker(env, "vectorscan.compile"),
        exprs_(std::move(exprs)),
        deferred_(Napi::Promise::Deferred::New(env)) {}
  ~CompileWorker() override { result_.Free(); }

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { result_ = CompileAll(exprs_); }

  void OnOK() override {
    Napi::Env env = Env();
    if (result_.db == nullptr) {
      deferred_.Reject(CompileError(env, result_).Value());
      return;
    }
    Napi::Object db = Database::constructor->New({Napi::External<Compiled>::New(env, &result_)});
    deferred_.Resolve(db);
  }

 private:
  std::vector<std::string> exprs_;
  Compiled result_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value CompileAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<std::string> exprs;
  if (info.Length() < 1 || !ReadExpressions(info[0], &exprs)) {
    Napi::TypeError::New(env, "expected an array of expressions").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto* worker = new CompileWorker(env, std::move(exprs));
  Napi::Promise p = worker->Promise();
  worker->Queue();
  return p;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) { return Database::Init(env, exports); }

}  // namespace

NODE_API_MODULE(vectorscan, Init)
