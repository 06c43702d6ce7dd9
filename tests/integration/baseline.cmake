# Learned baseline and detectors on mw-scengen scenarios; included from
# tests/integration/CMakeLists.txt. Both tests skip (77) until `mastwatch train` exists.
set(MW_BASELINE_DIR ${CMAKE_CURRENT_LIST_DIR})
add_test(NAME integration.baseline_behaviours
  COMMAND /usr/bin/python3 ${MW_BASELINE_DIR}/baseline_behaviours.py
          $<TARGET_FILE:mastwatch> $<TARGET_FILE:mw-scengen>)
add_test(NAME integration.model_merge
  COMMAND /usr/bin/python3 ${MW_BASELINE_DIR}/model_merge.py
          $<TARGET_FILE:mastwatch> $<TARGET_FILE:mw-scengen>)
set_tests_properties(integration.baseline_behaviours integration.model_merge
  PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900)
