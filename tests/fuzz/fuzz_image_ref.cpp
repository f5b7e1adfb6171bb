// libFuzzer target: the image-reference parser. A reference it accepts, written back from its
// parts, parses to the same parts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "policies/references/image_ref.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const emguard::ImageParseResult parsed = emguard::parse_image_reference(text);
  emguard::pin_state(parsed, {"main", "stable"});
  if (!parsed.ok()) return 0;
  const emguard::ImageRef& ref = *parsed.ref;
  std::string written = ref.familiar_name();
  if (ref.has_tag()) written += ":" + ref.tag;
  if (ref.has_digest()) written += "@" + ref.digest;
  const emguard::ImageParseResult again = emguard::parse_image_reference(written);
  if (!again.ok() || again.ref->domain != ref.domain || again.ref->path != ref.path ||
      again.ref->tag != ref.tag || again.ref->digest != ref.digest) {
    std::fprintf(stderr, "round trip changed the reference\n");
    std::abort();
  }
  return 0;
}
