// A small JSON reader for model metadata and bundle manifests (the engine must not depend
// on JUCE, and libtorch does not ship a JSON library). Reads the full JSON grammar into a
// tree; throws JsonError with a position on malformed input.
#pragma once

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace nnplug {

struct JsonError : std::runtime_error { using std::runtime_error::runtime_error; };

class Json
{
public:
    enum class Type { Null, Bool, Number, String, Array, Object };

    static Json parse (const std::string& text);   // throws JsonError

    Type type() const { return t; }
    bool isObject() const { return t == Type::Object; }
    bool isNumber() const { return t == Type::Number; }
    bool isString() const { return t == Type::String; }
    bool isBool() const { return t == Type::Bool; }
    bool isArray() const { return t == Type::Array; }

    // Lookups return a Null value when absent, so optional fields read naturally.
    const Json& operator[] (const std::string& key) const;
    const std::vector<Json>& items() const { return arr; }
    const std::map<std::string, Json>& members() const { return obj; }
    bool has (const std::string& key) const { return obj.count (key) > 0; }

    double number (double fallback = 0) const { return t == Type::Number ? num : fallback; }
    // A number outside int's range (or not a number) gives the fallback: casting it would be UB.
    int integer (int fallback = 0) const
    {
        return t == Type::Number && num >= -2147483648.0 && num <= 2147483647.0 ? (int) num : fallback;
    }
    bool boolean (bool fallback = false) const { return t == Type::Bool ? b : fallback; }
    std::string str (const std::string& fallback = {}) const { return t == Type::String ? s : fallback; }

private:
    Type t = Type::Null;
    bool b = false;
    double num = 0;
    std::string s;
    std::vector<Json> arr;
    std::map<std::string, Json> obj;

    friend class JsonParser;
};

} // namespace nnplug
