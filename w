(;FF[4]
AB[ae][bb][bd][bf][cc][ce][cg][db][dd][df][dh][ea][ec][ee][eg][ei][fb][fd][ff][fh][gc][ge][gg][hd][hf][ie]
AP[tengen:0.1]CA[UTF-8]DT[2026-11-22]GM[1]HA[26]KM[1]RU[Chinese]SZ[9])
