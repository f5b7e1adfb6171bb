// A small XML writer for the reports CI systems read (JUnit). Every element it opens it closes,
// in order, and every attribute value and text is escaped, so no message, test name or file name
// can break the document (kyverno/kyverno#17559 is an unclosed <failure>; #14633 is progress text
// inside the XML).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace emguard {

class XmlWriter {
 public:
  XmlWriter();  // starts with the XML declaration (UTF-8)

  // <name ...>: attributes may follow until the first child, text or end().
  void start(std::string_view name);
  void attribute(std::string_view name, std::string_view value);
  void text(std::string_view value);
  // Closes the innermost open element (<name/> when it has no content).
  void end();

  // The document, every element still open closed.
  std::string finish();

  // `value` as XML 1.0 character data: markup escaped; carriage returns (and in attributes
  // also tabs and newlines) as character references, which parsers do not normalise away;
  // characters XML 1.0 cannot carry at all (other C0 controls, U+FFFE, U+FFFF, surrogates) and
  // bytes that are not UTF-8 written as visible \xNN / \u{XXXX} text instead.
  enum class Context { Text, Attribute };
  static std::string escape(std::string_view value, Context context = Context::Attribute);

 private:
  void close_start_tag();

  std::string out_;
  std::vector<std::string> open_;
  bool in_start_tag_ = false;
  bool has_content_ = false;
};

}  // namespace emguard
