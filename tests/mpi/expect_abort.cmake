# Runs `PROGRAM --abort DIR` under mpirun with NP ranks and checks what abort() promises:
# mpirun exits with the code passed to abort (3), soon, and no rank outlives it.
#   cmake -DMPIEXEC=... -DNP=2 -DPROGRAM=... -DDIR=... -P expect_abort.cmake
file(REMOVE_RECURSE ${DIR})
file(MAKE_DIRECTORY ${DIR})
string(TIMESTAMP started "%s")
execute_process(
  COMMAND ${MPIEXEC} --oversubscribe -np ${NP} ${PROGRAM} --abort ${DIR}
  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
string(TIMESTAMP ended "%s")
math(EXPR seconds "${ended} - ${started}")
message(STATUS "mpirun exited with '${code}' after ${seconds} s\nstdout:\n${out}\nstderr:\n${err}")
if(NOT code STREQUAL "3")
  message(FATAL_ERROR "expected mpirun to exit with 3 (the abort code), got '${code}'")
endif()
# Measured from the abort call (the aborting rank wrote the time), not from the start:
# starting ranks that link LibTorch can take seconds on a loaded machine.
file(STRINGS ${DIR}/abort.time abort_time)
math(EXPR after_abort "${ended} - ${abort_time}")
if(after_abort GREATER 10)
  message(FATAL_ERROR "mpirun returned ${after_abort} s after abort(3); expected a few")
endif()
if(NOT out MATCHES "calls abort\\(3\\)")
  message(FATAL_ERROR "the aborting rank's output was lost (abort must flush stdout)")
endif()
file(GLOB pid_files ${DIR}/rank*.pid)
list(LENGTH pid_files ranks)
if(NOT ranks EQUAL NP)
  message(FATAL_ERROR "${ranks} of ${NP} ranks wrote their pid before the abort")
endif()
# A rank counts as gone when its pid is free or a zombie (dead; in a container whose PID 1
# does not reap orphans it stays in the process table). mpirun may return while a killed
# rank is still being torn down, so allow it 5 seconds.
foreach(pid_file ${pid_files})
  file(STRINGS ${pid_file} pid)
  set(state "")
  foreach(attempt RANGE 50)
    set(state "")
    if(EXISTS /proc/${pid}/stat)
      file(READ /proc/${pid}/stat stat)
      if(stat MATCHES "\\) ([A-Za-z]) ")
        set(state ${CMAKE_MATCH_1})
      endif()
    endif()
    if(state STREQUAL "" OR state STREQUAL "Z" OR state STREQUAL "X")
      break()
    endif()
    execute_process(COMMAND ${CMAKE_COMMAND} -E sleep 0.1)
  endforeach()
  if(NOT (state STREQUAL "" OR state STREQUAL "Z" OR state STREQUAL "X"))
    message(FATAL_ERROR "rank process ${pid} (${pid_file}) still runs 5 s after mpirun "
                        "returned (state ${state})")
  endif()
endforeach()
