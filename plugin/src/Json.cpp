#include "Json.h"

#include <cstdlib>

namespace nnplug {

class JsonParser
{
public:
    explicit JsonParser (const std::string& text) : s (text) {}

    Json document()
    {
        Json v = value (0);
        skipWs();
        if (pos != s.size())
            fail ("trailing characters");
        return v;
    }

private:
    const std::string& s;
    size_t pos = 0;

    [[noreturn]] void fail (const std::string& what) const
    {
        throw JsonError ("JSON: " + what + " at offset " + std::to_string (pos));
    }

    void skipWs()
    {
        while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r'))
            ++pos;
    }

    bool consume (const char* lit)
    {
        size_t n = 0;
        while (lit[n] != 0) ++n;
        if (s.compare (pos, n, lit) == 0) { pos += n; return true; }
        return false;
    }

    Json value (int depth)
    {
        if (depth > 64)
            fail ("nesting too deep");
        skipWs();
        if (pos >= s.size())
            fail ("unexpected end");
        Json v;
        const char c = s[pos];
        if (c == '{')
        {
            v.t = Json::Type::Object;
            ++pos; skipWs();
            if (pos < s.size() && s[pos] == '}') { ++pos; return v; }
            for (;;)
            {
                skipWs();
                if (pos >= s.size() || s[pos] != '"') fail ("expected a key");
                std::string key = string();
                skipWs();
                if (pos >= s.size() || s[pos] != ':') fail ("expected ':'");
                ++pos;
                v.obj[key] = value (depth + 1);
                skipWs();
                if (pos < s.size() && s[pos] == ',') { ++pos; continue; }
                if (pos < s.size() && s[pos] == '}') { ++pos; return v; }
                fail ("expected ',' or '}'");
            }
        }
        if (c == '[')
        {
            v.t = Json::Type::Array;
            ++pos; skipWs();
            if (pos < s.size() && s[pos] == ']') { ++pos; return v; }
            for (;;)
            {
                v.arr.push_back (value (depth + 1));
                skipWs();
                if (pos < s.size() && s[pos] == ',') { ++pos; continue; }
                if (pos < s.size() && s[pos] == ']') { ++pos; return v; }
                fail ("expected ',' or ']'");
            }
        }
        if (c == '"') { v.t = Json::Type::String; v.s = string(); return v; }
        if (consume ("true")) { v.t = Json::Type::Bool; v.b = true; return v; }
        if (consume ("false")) { v.t = Json::Type::Bool; v.b = false; return v; }
        if (consume ("null")) return v;
        if (c == '-' || (c >= '0' && c <= '9'))
        {
            const char* begin = s.c_str() + pos;
            char* end = nullptr;
            v.num = std::strtod (begin, &end);
            if (end == begin) fail ("bad number");
            pos += (size_t) (end - begin);
            v.t = Json::Type::Number;
            return v;
        }
        fail ("unexpected character");
    }

    static void appendUtf8 (std::string& out, unsigned cp)
    {
        if (cp < 0x80) out += (char) cp;
        else if (cp < 0x800) { out += (char) (0xC0 | (cp >> 6)); out += (char) (0x80 | (cp & 0x3F)); }
        else if (cp < 0x10000) { out += (char) (0xE0 | (cp >> 12)); out += (char) (0x80 | ((cp >> 6) & 0x3F)); out += (char) (0x80 | (cp & 0x3F)); }
        else { out += (char) (0xF0 | (cp >> 18)); out += (char) (0x80 | ((cp >> 12) & 0x3F)); out += (char) (0x80 | ((cp >> 6) & 0x3F)); out += (char) (0x80 | (cp & 0x3F)); }
    }

    unsigned hex4()
    {
        if (pos + 4 > s.size()) fail ("bad \\u escape");
        unsigned v = 0;
        for (int i = 0; i < 4; ++i)
        {
            const char h = s[pos++];
            v <<= 4;
            if (h >= '0' && h <= '9') v |= (unsigned) (h - '0');
            else if (h >= 'a' && h <= 'f') v |= (unsigned) (h - 'a' + 10);
            else if (h >= 'A' && h <= 'F') v |= (unsigned) (h - 'A' + 10);
            else fail ("bad \\u escape");
        }
        return v;
    }

    std::string string()
    {
        ++pos; // opening quote
        std::string out;
        while (pos < s.size())
        {
            const char c = s[pos++];
            if (c == '"') return out;
            if (c != '\\') { out += c; continue; }
            if (pos >= s.size()) break;
            const char e = s[pos++];
            switch (e)
            {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u':
                {
                    unsigned cp = hex4();
                    if (cp >= 0xD800 && cp < 0xDC00 && consume ("\\u"))
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4() - 0xDC00);
                    appendUtf8 (out, cp);
                    break;
                }
                default: fail ("bad escape");
            }
        }
        fail ("unterminated string");
    }
};

Json Json::parse (const std::string& text)
{
    return JsonParser (text).document();
}

const Json& Json::operator[] (const std::string& key) const
{
    static const Json null;
    auto it = obj.find (key);
    return it == obj.end() ? null : it->second;
}

} // namespace nnplug
