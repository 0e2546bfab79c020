// Json: the small parser the model reader and the bundle manifest use.
#include "Json.h"

#include <gtest/gtest.h>

using namespace nnplug;

TEST (Json, RejectsAbsurdNumbersWithoutUndefinedBehaviour)
{
    // The limits are applied before anything is sized from them (UBSan checks the casts).
    Json j = Json::parse ("{\"n\": 1e300, \"m\": -1e300, \"k\": 12}");
    EXPECT_EQ (j["n"].integer (-1), -1);
    EXPECT_EQ (j["m"].integer (-1), -1);
    EXPECT_EQ (j["k"].integer (-1), 12);
}
