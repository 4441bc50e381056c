# fsdpshard::torch: the C++ API for LibTorch programs (include/fsdpshard/torch.h,
# src/libtorch/). A library of its own so that the CLI (fsdpshard_lib + main.cpp) still
# does not link LibTorch. Installed with an exported CMake package:
#   find_package(fsdpshard REQUIRED)  ->  target_link_libraries(app PRIVATE fsdpshard::torch)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

file(GLOB FSDPSHARD_TORCH_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/libtorch/*.cpp)
add_library(fsdpshard_torch STATIC ${FSDPSHARD_TORCH_SOURCES})
add_library(fsdpshard::torch ALIAS fsdpshard_torch)
target_include_directories(fsdpshard_torch
  PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
  PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_compile_options(fsdpshard_torch PRIVATE -Wall -Wextra)
target_link_libraries(fsdpshard_torch PUBLIC fsdpshard_lib ${TORCH_LIBRARIES})
set_target_properties(fsdpshard_torch PROPERTIES EXPORT_NAME torch)
if(FSDPSHARD_SANITIZE)
  # The installed static libraries are instrumented: a consumer must link the runtimes too.
  target_link_options(fsdpshard_torch INTERFACE -fsanitize=address,undefined)
endif()

# The exported package: fsdpshard_lib (static) travels with fsdpshard_torch, so its
# include folder must point into the install tree too.
set_target_properties(fsdpshard_lib PROPERTIES EXPORT_NAME core
  INTERFACE_INCLUDE_DIRECTORIES
  "$<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>;$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
set(FSDPSHARD_EXPORTED_TARGETS fsdpshard_lib fsdpshard_torch)
if(FSDPSHARD_HAVE_NCCL)
  list(APPEND FSDPSHARD_EXPORTED_TARGETS fsdpshard_nccl_deps)
endif()
install(TARGETS ${FSDPSHARD_EXPORTED_TARGETS} EXPORT fsdpshardTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS fsdpshard RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/fsdpshard DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT fsdpshardTargets NAMESPACE fsdpshard:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/fsdpshard)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/fsdpshardConfig.cmake.in
  ${PROJECT_BINARY_DIR}/fsdpshardConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/fsdpshard)
install(FILES ${PROJECT_BINARY_DIR}/fsdpshardConfig.cmake DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/fsdpshard)

# benchmarks/torch_api_bench.py's C++ contender; built on demand (not part of `all`).
add_executable(fsdpshard_torch_load_bench EXCLUDE_FROM_ALL ${PROJECT_SOURCE_DIR}/benchmarks/torch_api_load.cpp)
target_link_libraries(fsdpshard_torch_load_bench PRIVATE fsdpshard::torch)
