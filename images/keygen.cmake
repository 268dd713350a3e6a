# keygen.cmake - the build's test key pair, made once: cmake -DTOOL=<hearth-image>
# -DKEYS=<dir> -P keygen.cmake. A key that exists is kept (hearth-image never
# replaces one), so rebuilding the tool does not change the signer.
if(NOT EXISTS "${KEYS}/hearth.key")
  execute_process(COMMAND "${TOOL}" keygen --out "${KEYS}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "hearth-image keygen --out ${KEYS} failed")
  endif()
endif()
