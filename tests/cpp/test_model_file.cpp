// The C++ reader of a model file (readModelFile, which ModelRunner and the bench use) against the shared contract cases
// (tests/contract_cases/*.json, made into TorchScript files by tests/python/contract_files.py):
// the same facts or the same refusal as the Python reader (nnplug.contract, tests/python/test_contract.py),
// so that the two readers cannot drift.
#include "ModelFile.h"
#include "Json.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

using namespace nnplug;

namespace {

const std::string cases = NNPLUG_CONTRACT_CASES;   // the descriptions
const std::string files = NNPLUG_CONTRACT_FILES;   // the TorchScript files made from them

Json readJson (const std::filesystem::path& p)
{
    std::ifstream f (p);
    std::stringstream ss;
    ss << f.rdbuf();
    return Json::parse (ss.str());
}

std::vector<std::string> caseNames()
{
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator (cases))
        if (e.path().extension() == ".json")
            names.push_back (e.path().stem().string());
    std::sort (names.begin(), names.end());
    return names;
}

class Contract : public ::testing::TestWithParam<std::string> {};

// The case's "method" (the Model method parameter), as contract.METHOD_CHOICES names it.
MethodChoice methodOf (const Json& doc)
{
    const auto m = doc["method"].str ("Auto");
    return m == "forward" ? MethodChoice::Forward : m == "encode -> decode" ? MethodChoice::EncodeDecode : MethodChoice::Auto;
}

TEST_P (Contract, CppReaderFindsTheCaseFacts)
{
    const auto name = GetParam();
    const auto doc = readJson (std::filesystem::path (cases) / (name + ".json"));
    const auto& expect = doc["expect"];
    const auto file = files + "/" + name + ".ts";
    ASSERT_TRUE (std::filesystem::exists (file)) << file;
    if (expect.has ("error"))
    {
        try
        {
            readModelFile (file, methodOf (doc));
            FAIL() << name << ": expected a refusal matching '" << expect["error"].str() << "'";
        }
        catch (const ModelError& e)
        {
            EXPECT_TRUE (std::regex_search (e.what(), std::regex (expect["error"].str()))) << name << ": " << e.what();
        }
        return;
    }
    const auto read = readModelFile (file, methodOf (doc));
    const auto& info = read.info;
    for (const auto& [key, value] : expect.members())
    {
        SCOPED_TRACE (name + ": " + key);
        if (key == "format") EXPECT_EQ (info.format, value.str());
        else if (key == "name") EXPECT_EQ (info.name, value.str());
        else if (key == "sample_rate")
        {
            if (value.isNumber()) { EXPECT_TRUE (info.sampleRateStated); EXPECT_EQ (info.sampleRate, value.number()); }
            else EXPECT_FALSE (info.sampleRateStated);
        }
        else if (key == "ratio") EXPECT_EQ (info.ratio, value.integer());
        else if (key == "delay") EXPECT_EQ (info.delay, value.integer());
        else if (key == "delay_known") EXPECT_EQ (info.delayKnown, value.boolean());
        else if (key == "latent_path") EXPECT_EQ (info.latentPath, value.boolean());
        else if (key == "in_channels") EXPECT_EQ (info.inChannels(), value.integer());
        else if (key == "out_channels") EXPECT_EQ (info.outChannels(), value.integer());
        else if (key == "deterministic") EXPECT_EQ (info.deterministic, value.boolean());
        else if (key == "latent_size") EXPECT_EQ (info.latentSize, value.integer());
        else if (key == "has_reset") EXPECT_EQ (info.hasReset, value.boolean());
        else if (key == "streaming")
        {
            // null: the file does not show it (the plugin plays it as streaming, without a word)
            EXPECT_EQ (info.streaming, value.isBool() ? value.boolean() : true);
            EXPECT_EQ (info.streamingEvidence.empty(), ! value.isBool());
        }
        else if (key == "controls")
        {
            ASSERT_EQ (info.controls.size(), value.items().size());
            for (size_t i = 0; i < info.controls.size(); ++i)
            {
                const auto& c = info.controls[i];
                const auto& w = value.items()[i].items();
                EXPECT_EQ (c.name, w[0].str());
                EXPECT_EQ (c.kind, w[1].str());
                EXPECT_EQ (c.type, w[2].str());
                EXPECT_EQ (c.defaultValue, w[3].number());
                EXPECT_EQ (c.lo, w[4].number());
                EXPECT_EQ (c.hi, w[5].number());
            }
        }
        else if (key == "listed_methods")
        {
            std::vector<std::string> want;
            for (const auto& v : value.items()) want.push_back (v.str());
            EXPECT_EQ (info.methods, want);
        }
        else ADD_FAILURE() << "the C++ test does not know the fact '" << key << "': add it here and to nnplug.contract";
    }
}

INSTANTIATE_TEST_SUITE_P (Cases, Contract, ::testing::ValuesIn (caseNames()),
                          [] (const auto& info) { return std::regex_replace (info.param, std::regex ("-"), "_"); });

} // namespace
