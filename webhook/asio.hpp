// The one place that includes Asio and Beast (only webhook/ and tests/ do: docs/architecture.md,
// Map). Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>, so
// <utility> comes first.
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace emguard::webhook {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
}  // namespace emguard::webhook
