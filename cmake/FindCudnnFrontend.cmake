# FindCudnnFrontend: NVIDIA's cuDNN frontend, header-only (the graph API that
# cuDNN's fused attention needs), as scripts/fetch_cudnn_frontend.sh unpacks it
# into third_party/cudnn_frontend/include; or point CUDNN_FRONTEND_INCLUDE_DIR
# at another include/ holding cudnn_frontend.h. Defines CudnnFrontend_FOUND,
# CudnnFrontend_VERSION and the INTERFACE target CudnnFrontend::cudnn_frontend
# (headers only; link CUDNN::cudnn and CUDA::nvrtc beside it: the frontend calls
# cuDNN's backend API and, for its runtime-compiled engines, NVRTC directly).
find_path(CUDNN_FRONTEND_INCLUDE_DIR cudnn_frontend.h
  HINTS ${PROJECT_SOURCE_DIR}/third_party/cudnn_frontend/include
  NO_DEFAULT_PATH)
find_path(CUDNN_FRONTEND_INCLUDE_DIR cudnn_frontend.h)  # elsewhere, when not in the tree
if(CUDNN_FRONTEND_INCLUDE_DIR AND EXISTS "${CUDNN_FRONTEND_INCLUDE_DIR}/cudnn_frontend_version.h")
  file(STRINGS "${CUDNN_FRONTEND_INCLUDE_DIR}/cudnn_frontend_version.h" _gp_fe_lines
       REGEX "#define CUDNN_FRONTEND_(MAJOR|MINOR|PATCH)_VERSION [0-9]+")
  foreach(_gp_part MAJOR MINOR PATCH)
    string(REGEX REPLACE ".*CUDNN_FRONTEND_${_gp_part}_VERSION ([0-9]+).*" "\\1" _gp_fe_${_gp_part} "${_gp_fe_lines}")
  endforeach()
  set(CudnnFrontend_VERSION "${_gp_fe_MAJOR}.${_gp_fe_MINOR}.${_gp_fe_PATCH}")
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CudnnFrontend
  REQUIRED_VARS CUDNN_FRONTEND_INCLUDE_DIR
  VERSION_VAR CudnnFrontend_VERSION)
if(CudnnFrontend_FOUND AND NOT TARGET CudnnFrontend::cudnn_frontend)
  add_library(CudnnFrontend::cudnn_frontend INTERFACE IMPORTED)
  # an imported target's include folder is a system one: its warnings are not ours
  set_target_properties(CudnnFrontend::cudnn_frontend PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES ${CUDNN_FRONTEND_INCLUDE_DIR})
endif()
mark_as_advanced(CUDNN_FRONTEND_INCLUDE_DIR)
