// PixlOrthanc
