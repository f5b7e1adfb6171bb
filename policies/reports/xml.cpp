#include "policies/reports/xml.hpp"

#include <cstdint>
#include <cstdio>

namespace emguard {
namespace {

std::string hex_byte(unsigned char byte) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "\\x%02X", byte);
  return buffer;
}

std::string code_point_text(std::uint32_t code_point) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "\\u{%04X}", static_cast<unsigned>(code_point));
  return buffer;
}

// The length of the well-formed UTF-8 sequence at text[at] and its code point, or 0.
std::size_t utf8_sequence(std::string_view text, std::size_t at, std::uint32_t& code_point) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[at + i]); };
  const unsigned char lead = byte(0);
  std::size_t length = 0;
  std::uint32_t minimum = 0;
  if (lead < 0x80) {
    code_point = lead;
    return 1;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2, minimum = 0x80, code_point = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, minimum = 0x800, code_point = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, minimum = 0x10000, code_point = lead & 0x07;
  } else {
    return 0;
  }
  if (at + length > text.size()) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(i) & 0x3F);
  }
  if (code_point < minimum || code_point > 0x10FFFF) return 0;  // overlong or out of range
  return length;
}

// XML 1.0 section 2.2 Char, less the three whitespace controls handled by the caller.
bool xml_char(std::uint32_t c) {
  return (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) ||
         (c >= 0x10000 && c <= 0x10FFFF);
}

}  // namespace

std::string XmlWriter::escape(std::string_view value, Context context) {
  const bool attribute = context == Context::Attribute;
  std::string out;
  out.reserve(value.size());
  for (std::size_t at = 0; at < value.size();) {
    const char c = value[at];
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\t':
        out += attribute ? "&#9;" : "\t";
        break;
      case '\n':
        out += attribute ? "&#10;" : "\n";
        break;
      case '\r':
        out += "&#13;";
        break;
      default: {
        std::uint32_t code_point = 0;
        const std::size_t length = utf8_sequence(value, at, code_point);
        if (length == 0) {
          out += hex_byte(static_cast<unsigned char>(c));
          ++at;
          continue;
        }
        if (xml_char(code_point)) {
          out.append(value.substr(at, length));
        } else if (code_point < 0x80) {
          out += hex_byte(static_cast<unsigned char>(c));
        } else {
          out += code_point_text(code_point);
        }
        at += length;
        continue;
      }
    }
    ++at;
  }
  return out;
}

XmlWriter::XmlWriter() : out_("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n") {}

void XmlWriter::close_start_tag() {
  if (in_start_tag_) {
    out_ += '>';
    in_start_tag_ = false;
  }
}

void XmlWriter::start(std::string_view name) {
  close_start_tag();
  if (!open_.empty()) {
    // Children on their own lines, indented; text content stays exactly as given.
    out_ += '\n';
    out_.append(open_.size() * 2, ' ');
  }
  out_ += '<';
  out_ += name;
  open_.emplace_back(name);
  in_start_tag_ = true;
  has_content_ = false;
}

void XmlWriter::attribute(std::string_view name, std::string_view value) {
  if (!in_start_tag_) return;  // only in a start tag: an attribute elsewhere would be text
  out_ += ' ';
  out_ += name;
  out_ += "=\"";
  out_ += escape(value, Context::Attribute);
  out_ += '"';
}

void XmlWriter::text(std::string_view value) {
  if (open_.empty()) return;  // nothing may follow the root element
  close_start_tag();
  out_ += escape(value, Context::Text);
  has_content_ = true;
}

void XmlWriter::end() {
  if (open_.empty()) return;
  if (in_start_tag_) {
    out_ += "/>";
    in_start_tag_ = false;
  } else {
    if (!has_content_) {
      out_ += '\n';
      out_.append((open_.size() - 1) * 2, ' ');
    }
    out_ += "</" + open_.back() + ">";
  }
  open_.pop_back();
  has_content_ = false;
}

std::string XmlWriter::finish() {
  while (!open_.empty()) end();
  out_ += '\n';
  return std::move(out_);
}

}  // namespace emguard
