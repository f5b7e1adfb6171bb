#include "webhook/connection.hpp"

#include <malloc.h>

#include <algorithm>
#include <utility>

namespace emguard::webhook {
namespace {

// The most one read of a body adds (Beast's read_size for a flat_buffer).
constexpr std::size_t kReadAhead = 64 * 1024;
// How long a request waits for room in the body budget before it gets 503: long enough to ride
// out a burst of large reviews, short against the API server's 10 s webhook timeout.
constexpr std::chrono::milliseconds kBudgetWait{1000};
// Bodies from this size on are followed by malloc_trim (TrimAfterLargeRequest).
constexpr std::size_t kTrimAfterBodyBytes = 1024 * 1024;

// Returns the heap that a large review (its body, parsed document and evaluation: ~170 MB for
// 120,000 containers) freed to the system. Without it each worker thread's malloc arena keeps
// its own high-water mark, so two large reviews in a row on two threads hold twice the peak.
struct TrimAfterLargeRequest {
  bool large = false;
  TrimAfterLargeRequest() = default;
  TrimAfterLargeRequest(const TrimAfterLargeRequest&) = delete;
  TrimAfterLargeRequest& operator=(const TrimAfterLargeRequest&) = delete;
  ~TrimAfterLargeRequest() {
    if (large) ::malloc_trim(0);
  }
};

std::string_view target_of(const http::request_header<>& header) {
  return std::string_view(header.target().data(), header.target().size());
}

}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, ssl::context& context, asio::ip::address peer,
                       const ConnectionShared& shared)
    : stream_(std::move(socket), context), peer_(std::move(peer)), shared_(shared) {
  since_.store(now());
}

bool Connection::advance(Phase next) {
  Phase current = phase_.load();
  do {
    if (current == Phase::Evicted) return false;
  } while (!phase_.compare_exchange_weak(current, next));
  since_.store(now());
  return true;
}

bool Connection::claim_for_eviction(Phase seen) {
  return seen != Phase::Busy && seen != Phase::Evicted &&
         phase_.compare_exchange_strong(seen, Phase::Evicted);
}

void Connection::close() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    beast::error_code ignored;
    beast::get_lowest_layer(self->stream_)
        .socket()
        .shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(self->stream_).close();
  });
}

void Connection::cancel_if_idle() {
  asio::post(stream_.get_executor(), [weak = weak_from_this()] {
    if (const auto c = weak.lock(); c && c->idle_) beast::get_lowest_layer(c->stream_).cancel();
  });
}

RouterContext Connection::router_context(const Engine& engine) const {
  return RouterContext{engine,
                       shared_.metrics,
                       shared_.body_budget,
                       shared_.draining.load(),
                       shared_.options.baseline_endpoint,
                       shared_.options.max_body_bytes,
                       std::nullopt};
}

asio::awaitable<void> Connection::run() {
  const ServerOptions& options = shared_.options;
  beast::tcp_stream& lowest = beast::get_lowest_layer(stream_);
  beast::error_code ec;

  lowest.expires_after(options.handshake_timeout);
  co_await stream_.async_handshake(ssl::stream_base::server, into(ec));
  if (ec) {
    if (!evicted()) shared_.metrics.count_handshake_failure();
    shared_.log.log(LogLevel::Debug, "TLS handshake failed", {{"error", ec.message()}});
    co_return;
  }

  beast::flat_buffer buffer;
  for (bool first = true; co_await serve_request(buffer, first); first = false) {
  }
  if (evicted()) co_return;  // the acceptor closes it
  // Close politely (close_notify), but never wait long for a client that does not answer.
  lowest.expires_after(std::chrono::seconds(1));
  co_await stream_.async_shutdown(into(ec));
}

// GCC 12 inlines the coroutine frame's allocation (Asio's awaitable_frame_base::operator new,
// which calls ::operator new) into this coroutine's ramp but not the matching class operator
// delete, and then reports the two as mismatched: a false positive that comes and goes with the
// size of the coroutine body (-Wmismatched-new-delete).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
asio::awaitable<bool> Connection::serve_request(beast::flat_buffer& buffer, bool first) {
  const ServerOptions& options = shared_.options;
  beast::tcp_stream& lowest = beast::get_lowest_layer(stream_);
  beast::error_code ec;
  // Idle: wait for the first byte of the next request (a drain closes idle connections).
  if (buffer.size() == 0) {
    if (shared_.draining && !first) co_return false;
    if (!advance(Phase::Idle)) co_return false;
    idle_ = true;
    lowest.expires_after(first ? options.header_timeout : options.idle_timeout);
    const std::size_t got = co_await stream_.async_read_some(buffer.prepare(4096), into(ec));
    idle_ = false;
    if (ec) co_return false;
    buffer.commit(got);
  }
  if (!advance(Phase::Headers)) co_return false;
  // Declared first, so that it runs once the request and its body are freed.
  TrimAfterLargeRequest trim;
  // Declared before the parser, so that the body is freed before its bytes are given back.
  BodyBudget::Lease lease = shared_.body_budget.lease();
  http::request_parser<http::string_body> parser;
  parser.header_limit(kHeaderLimit);
  parser.body_limit(options.max_body_bytes);
  lowest.expires_after(options.header_timeout);
  co_await http::async_read_header(stream_, buffer, parser, into(ec));
  if (evicted()) co_return false;
  if (ec) {
    // Beast checks a Content-Length against body_limit with the headers: that is a 413.
    if (ec == http::error::body_limit) {
      co_await reject(Unreadable::BodyTooLarge, target_of(parser.get()));
    } else if (ec == http::error::header_limit) {
      co_await reject(Unreadable::HeadersTooLarge, "");
    } else if (ec != beast::error::timeout && ec != asio::error::operation_aborted &&
               ec != http::error::end_of_stream && ec != asio::ssl::error::stream_truncated &&
               ec != asio::error::eof) {
      co_await reject(Unreadable::NotHttp, "");
    }
    co_return false;
  }
  if (const auto problem = framing_problem(parser.get(), parser.chunked())) {
    co_await reject(*problem, target_of(parser.get()));
    co_return false;
  }
  if (!advance(Phase::Busy)) co_return false;
  shared_.metrics.in_flight().fetch_add(1);
  const BodyRead body = co_await read_body(buffer, parser, lease);
  if (body != BodyRead::Complete) {
    shared_.metrics.in_flight().fetch_sub(1);
    if (body == BodyRead::OverLimit) {  // a chunked body that grew past the limit
      co_await reject(Unreadable::BodyTooLarge, target_of(parser.get()));
    } else if (body == BodyRead::OverBudget) {
      co_await reject(Unreadable::BodyOverBudget, target_of(parser.get()));
    } else if (body == BodyRead::Malformed) {
      co_await reject(Unreadable::MalformedChunks, target_of(parser.get()));
    }
    co_return false;  // timeouts, resets: nothing more to say on this connection
  }

  const Request& request = parser.get();
  trim.large = request.body().size() >= kTrimAfterBodyBytes;
  const auto started = Clock::now();
  Routed routed;
  {
    // One policy snapshot for everything this request needs.
    const std::shared_ptr<const Engine> engine = shared_.engine.get();
    routed = route(request, router_context(*engine));
  }
  const auto latency = Clock::now() - started;
  const bool keep_alive = request.keep_alive() && !shared_.draining;
  routed.response.keep_alive(keep_alive);
  record(routed, latency, shared_.metrics, shared_.log);

  lowest.expires_after(options.body_timeout);
  co_await http::async_write(stream_, routed.response, into(ec));
  shared_.metrics.in_flight().fetch_sub(1);
  co_return !ec && keep_alive;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

asio::awaitable<void> Connection::reject(Unreadable why, std::string_view target) {
  Routed refused = refuse(why, target, router_context(*shared_.engine.get()));
  shared_.metrics.count_rejected(refused.metric_path,
                                 static_cast<int>(refused.response.result_int()));
  beast::error_code ec;
  beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
  co_await http::async_write(stream_, refused.response, into(ec));
}

// Holds `bytes` of the body budget in `lease`, waiting up to kBudgetWait for room.
asio::awaitable<bool> Connection::lease_body_bytes(BodyBudget::Lease& lease, std::size_t bytes) {
  if (lease.resize(bytes)) co_return true;
  asio::steady_timer pause(co_await asio::this_coro::executor);
  const auto deadline = Clock::now() + kBudgetWait;
  while (Clock::now() < deadline) {
    beast::error_code ec;
    pause.expires_after(std::chrono::milliseconds(10));
    co_await pause.async_wait(into(ec));
    if (lease.resize(bytes)) co_return true;
  }
  co_return false;
}

// Reads the body, with the memory it takes held in `lease` before it is taken: a declared
// Content-Length up front (Beast reserves it at once), a chunked body one read ahead of what
// it holds (the string is grown here, so Beast never has to grow it).
asio::awaitable<Connection::BodyRead> Connection::read_body(
    beast::flat_buffer& buffer, http::request_parser<http::string_body>& parser,
    BodyBudget::Lease& lease) {
  const std::size_t max_body_bytes = shared_.options.max_body_bytes;
  if (const auto length = parser.content_length(); length && *length > 0) {
    if (!co_await lease_body_bytes(lease, static_cast<std::size_t>(*length))) {
      co_return BodyRead::OverBudget;
    }
  }
  beast::get_lowest_layer(stream_).expires_after(shared_.options.body_timeout);
  while (!parser.is_done()) {
    if (parser.chunked()) {
      std::string& body = parser.get().body();
      // One read appends at most what is buffered plus one read of kReadAhead bytes.
      const std::size_t needed = body.size() + buffer.size() + kReadAhead;
      if (body.capacity() < needed) {
        const std::size_t grown =
            std::min(std::max(needed, 2 * body.capacity()), max_body_bytes + kReadAhead);
        if (!co_await lease_body_bytes(lease, grown)) co_return BodyRead::OverBudget;
        body.reserve(grown);
      }
    }
    beast::error_code ec;
    co_await http::async_read_some(stream_, buffer, parser, into(ec));
    if (ec == http::error::body_limit) co_return BodyRead::OverLimit;
    if (ec == http::error::partial_message || ec == http::error::end_of_stream) {
      co_return BodyRead::Gone;
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_chunk).category()) {
      co_return BodyRead::Malformed;
    }
    if (ec) co_return BodyRead::Gone;
  }
  co_return BodyRead::Complete;
}

}  // namespace emguard::webhook
